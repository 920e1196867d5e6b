// `arbor top`'s model: rows from the daemon's tree JSON, collapse, filter,
// selection and each row's text. No terminal, no daemon.

#include <catch2/catch.hpp>

#include "top/model.hpp"

using namespace arbor::top;
using nlohmann::json;

namespace {

json instance(const std::string& id, const std::string& state, int pid) {
  return json{{"id", id},        {"app", id.substr(0, id.find('#'))},
              {"state", state},  {"pid", pid},
              {"uptime_ms", pid ? 192000 : 0}, {"restarts", 2},
              {"memory_bytes", 15728640}, {"cpu_percent", 0.4},
              {"last_exit", "exit(1)"},   {"reason", ""}};
}

/// root ─ web (group: api ×2, worker) ─ solo
json sample_tree() {
  json api{{"name", "web.api"}, {"kind", "app"}, {"state", "running"}, {"restart", "on_failure"},
           {"instances", {instance("web.api#0", "ready", 4242), instance("web.api#1", "running", 4243)}}};
  json worker{{"name", "web.worker"}, {"kind", "app"}, {"state", "running"}, {"restart", "always"},
              {"instances", {instance("web.worker#0", "running", 4244)}}};
  json web{{"name", "web"}, {"kind", "group"}, {"strategy", "one_for_all"}, {"state", "running"},
           {"children", {api, worker}}};
  auto backoff = instance("solo#0", "backoff", 0);
  backoff["reason"] = "exit(1), restart in 4000ms";
  json solo{{"name", "solo"}, {"kind", "app"}, {"state", "running"}, {"restart", "on_failure"},
            {"instances", {backoff}}};
  return json{{"name", ""}, {"kind", "group"}, {"strategy", "one_for_one"}, {"state", "running"},
              {"children", {web, solo}}};
}

std::vector<std::string> keys(const model& m) {
  std::vector<std::string> out;
  for (const auto& r : m.rows()) out.push_back(r.key);
  return out;
}

} // namespace

TEST_CASE("top model: the tree becomes rows in start order, groups, apps, instances") {
  model m;
  m.set_tree(sample_tree());
  CHECK(keys(m) == std::vector<std::string>{"", "web", "web.api", "web.api#0", "web.api#1",
                                            "web.worker", "web.worker#0", "solo", "solo#0"});
  const auto& rows = m.rows();
  CHECK(rows[1].kind == row_kind::group);
  CHECK(rows[1].kind_detail == "one_for_all");
  CHECK(rows[2].kind == row_kind::app);
  CHECK(rows[2].up == 2);
  CHECK(rows[2].total == 2);
  CHECK(rows[3].kind == row_kind::instance);
  CHECK(rows[3].app == "web.api");
  CHECK(rows[3].depth == 3);
  CHECK(m.summary() == "3 apps, 4 instances: 3 up, 1 backoff");
}

TEST_CASE("top model: collapsing a group hides what is under it, and the selection stays") {
  model m;
  m.set_tree(sample_tree());
  m.move(1); // web
  REQUIRE(m.selected()->key == "web");
  m.set_expanded(false);
  CHECK(keys(m) == std::vector<std::string>{"", "web", "solo", "solo#0"});
  CHECK(m.selected()->key == "web");
  CHECK(m.rows()[1].collapsed);
  // Still collapsed after the next refresh of the tree.
  m.set_tree(sample_tree());
  CHECK(keys(m).size() == 4);
  m.toggle_selected();
  CHECK(keys(m).size() == 9);
  // Left on an instance selects its app.
  m.select_last();
  REQUIRE(m.selected()->key == "solo#0");
  m.set_expanded(false);
  CHECK(m.selected()->key == "solo");
}

TEST_CASE("top model: the selection follows its key across refreshes, or keeps its place") {
  model m;
  m.set_tree(sample_tree());
  m.move(4);
  REQUIRE(m.selected()->key == "web.api#1");
  auto tree = sample_tree();
  tree["children"][0]["children"][0]["instances"].erase(0); // web.api#0 went away (scaled)
  m.set_tree(tree);
  CHECK(m.selected()->key == "web.api#1");
  tree["children"][0]["children"][0]["instances"].erase(0);
  m.set_tree(tree);
  CHECK(m.selected_index() == 3); // the same place: now web.worker
  m.move(-100);
  CHECK(m.selected_index() == 0);
  m.move(100);
  CHECK(m.selected()->key == "solo#0");
}

TEST_CASE("top model: the filter keeps matches, their ancestors and what is under them") {
  model m;
  m.set_tree(sample_tree());
  m.set_filter("WORKER");
  CHECK(keys(m) == std::vector<std::string>{"", "web", "web.worker", "web.worker#0"});
  m.set_filter("api#1");
  CHECK(keys(m) == std::vector<std::string>{"", "web", "web.api", "web.api#1"});
  m.set_filter("web");
  CHECK(keys(m).size() == 7);
  m.set_filter("nothing");
  CHECK(keys(m) == std::vector<std::string>{});
  CHECK(m.selected() == nullptr);
  m.set_filter("");
  CHECK(keys(m).size() == 9);
}

TEST_CASE("top model: an instance row shows state, pid, uptime, restarts, memory, cpu, last exit") {
  model m;
  m.set_tree(sample_tree());
  auto text = m.row_text(m.rows()[3], 0, 200);
  CHECK(text.find("#0") != std::string::npos);
  CHECK(text.substr(model::state_column, 5) == "ready");
  for (const char* part : {"4242", "3m12s", " 2 ", "15.0M", "0.4%", "last exit(1)"})
    CHECK(text.find(part) != std::string::npos);
  // Exactly as wide as asked: padded or cut.
  CHECK(m.row_text(m.rows()[3], 0, 80).size() == 80);
  CHECK(m.row_text(m.rows()[3], 0, 30).size() == 30);
  CHECK(model::column_heading(80).substr(model::state_column, 5) == "STATE");
}

TEST_CASE("top model: a backoff instance counts down to its next restart from its backoff event") {
  model m;
  m.set_tree(sample_tree());
  const row& solo = m.rows().back();
  // No event seen: the whole delay.
  CHECK(m.row_text(solo, 0, 200).find("next restart in 4s") != std::string::npos);
  int64_t at = 1'000'000'000'000;
  m.note_event(json{{"event", "backoff"}, {"offender", "solo#0"}, {"at_ns", at}});
  CHECK(m.row_text(solo, at + 1'500'000'000, 200).find("next restart in 3s") != std::string::npos);
  CHECK(m.row_text(solo, at + 3'800'000'000, 200).find("next restart in 200ms") != std::string::npos);
  CHECK(m.row_text(solo, at + 9'000'000'000, 200).find("next restart in 0ms") != std::string::npos);
}

TEST_CASE("top model: the restart delay is read from a backoff reason") {
  CHECK(restart_delay_ms("exit(1), restart in 400ms") == 400);
  CHECK(restart_delay_ms("crash loop: 4 consecutive runs shorter than min_uptime, restart in 12800ms")
        == 12800);
  CHECK_FALSE(restart_delay_ms("gave up"));
  CHECK_FALSE(restart_delay_ms("restart in soon"));
  CHECK(next_restart_text("stopped", 0, 0) == "");
}

TEST_CASE("top model: a group row shows its strategy and its configured restart limit") {
  model m;
  m.set_tree(sample_tree());
  CHECK(m.groups_without_limits() == std::vector<std::string>{"", "web"});
  m.set_limits("web", {5, 60});
  m.set_limits("", {std::nullopt, 5});
  CHECK(m.groups_without_limits().empty());
  auto web = m.row_text(m.rows()[1], 0, 200);
  CHECK(web.find("- web  one_for_all  max 5 restarts in 1m00s  running") != std::string::npos);
  CHECK(m.row_text(m.rows()[0], 0, 200).find("(root)  one_for_one  no restart limit")
        != std::string::npos);
  m.set_expanded(false); // the root
  CHECK(m.row_text(m.rows()[0], 0, 200).rfind("+ (root)", 0) == 0);
}

TEST_CASE("top model: a group row shows how much of its restart intensity is used") {
  auto tree = sample_tree();
  tree["children"][0]["intensity"] = json{{"used", 2}, {"max", 5}, {"period_s", 60}};
  model m;
  m.set_tree(tree);
  m.set_limits("web", {5, 60});
  CHECK(m.row_text(m.rows()[1], 0, 200).find("- web  one_for_all  2 of 5 restarts in 1m00s  running")
        != std::string::npos);
}

TEST_CASE("top model: cut and fit cut at a code point, fit pads") {
  CHECK(cut("abcdef", 4) == "abcd");
  CHECK(cut("ab", 4) == "ab");
  CHECK(fit("ab", 4) == "ab  ");
  CHECK(fit("abcdef", 4) == "abcd");
  CHECK(fit("é€xyz", 3) == "é€x");
}
