// `arbor top`'s log pane: instance filter, stdout/stderr, wrap, search.

#include <catch2/catch.hpp>

#include "top/log_view.hpp"

using namespace arbor::top;

namespace {

std::vector<std::string> texts(const std::vector<log_line>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

log_view sample() {
  log_view v;
  v.add({"web.api#0 | one", false});
  v.add({"2026-11-21T12:00:03Z web.api#1 | two", false});
  v.add({"web.api#0 | oops", true});
  v.add({"web.api#10 | ten", false});
  return v;
}

} // namespace

TEST_CASE("top logs: the newest lines fill the pane from the bottom") {
  auto v = sample();
  CHECK(texts(v.screen(80, 2)) == std::vector<std::string>{"web.api#0 | oops", "web.api#10 | ten"});
  CHECK(v.screen(80, 10).size() == 4);
  CHECK(v.screen(0, 10).empty());
}

TEST_CASE("top logs: an instance shows only its own lines, dated or not") {
  auto v = sample();
  v.set_instance("web.api#1");
  CHECK(texts(v.screen(80, 10)) == std::vector<std::string>{"2026-11-21T12:00:03Z web.api#1 | two"});
  v.set_instance("web.api#0"); // not #10
  CHECK(texts(v.screen(80, 10)) == std::vector<std::string>{"web.api#0 | one", "web.api#0 | oops"});
  v.reset("");
  CHECK(v.screen(80, 10).empty());
}

TEST_CASE("top logs: o cycles both streams, stdout only, stderr only") {
  auto v = sample();
  v.cycle_streams();
  CHECK(v.streams() == log_streams::out);
  CHECK(v.screen(80, 10).size() == 3);
  v.cycle_streams();
  CHECK(v.streams() == log_streams::err);
  auto err = v.screen(80, 10);
  REQUIRE(err.size() == 1);
  CHECK(err[0].err);
  v.cycle_streams();
  CHECK(v.streams() == log_streams::both);
}

TEST_CASE("top logs: long lines are cut, or wrapped into several screen lines") {
  log_view v;
  v.add({"a | 0123456789", false});
  CHECK(texts(v.screen(6, 5)) == std::vector<std::string>{"a | 01"});
  v.toggle_wrap();
  CHECK(texts(v.screen(6, 5)) == std::vector<std::string>{"a | 01", "234567", "89"});
  CHECK(texts(v.screen(6, 2)) == std::vector<std::string>{"234567", "89"});
}

TEST_CASE("top logs: search anchors on the newest match, n and N step through matches") {
  auto v = sample();
  v.add({"web.api#0 | later", false});
  v.search("o");
  CHECK_FALSE(v.following());
  CHECK(texts(v.screen(80, 1)) == std::vector<std::string>{"web.api#0 | oops"});
  REQUIRE(v.next_match(true));
  CHECK(texts(v.screen(80, 1)) == std::vector<std::string>{"2026-11-21T12:00:03Z web.api#1 | two"});
  REQUIRE(v.next_match(true));
  CHECK(texts(v.screen(80, 1)) == std::vector<std::string>{"web.api#0 | one"});
  CHECK_FALSE(v.next_match(true));
  REQUIRE(v.next_match(false));
  CHECK(texts(v.screen(80, 1)) == std::vector<std::string>{"2026-11-21T12:00:03Z web.api#1 | two"});
  // New lines do not move an anchored pane; follow() goes back to the newest.
  v.add({"web.api#0 | newest", false});
  CHECK(texts(v.screen(80, 1)) == std::vector<std::string>{"2026-11-21T12:00:03Z web.api#1 | two"});
  v.follow();
  CHECK(v.following());
  CHECK(texts(v.screen(80, 1)) == std::vector<std::string>{"web.api#0 | newest"});
  v.search("absent");
  CHECK(v.following());
}

TEST_CASE("top logs: at most capacity lines are kept, the oldest go first") {
  log_view v;
  for (size_t i = 0; i < log_view::capacity + 10; ++i) v.add({"a | " + std::to_string(i), false});
  auto all = v.screen(80, log_view::capacity + 10);
  CHECK(all.size() == log_view::capacity);
  CHECK(all.front().text == "a | 10");
}
