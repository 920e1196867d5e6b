// `arbor top`'s keys: the requests actions become, confirmations for the
// destructive ones, prompts, and the read-only flag.

#include <catch2/catch.hpp>

#include "top/controller.hpp"

using namespace arbor::top;
using nlohmann::json;

namespace {

json tree() {
  auto inst = [](const std::string& id) {
    return json{{"id", id}, {"state", "running"}, {"pid", 42}};
  };
  json api{{"name", "web.api"}, {"kind", "app"}, {"state", "running"},
           {"instances", {inst("web.api#0"), inst("web.api#1")}}};
  json web{{"name", "web"}, {"kind", "group"}, {"children", {api}}};
  return json{{"name", ""}, {"kind", "group"}, {"children", {web}}};
}

struct fixture {
  explicit fixture(bool read_only = false) : keys(read_only) { m.set_tree(tree()); }
  controller::outcome press(int k) { return keys.on_key(k, m, logs); }
  std::optional<request> type(const std::string& text) {
    std::optional<request> sent;
    for (char c : text) {
      auto o = press(c);
      if (o.send) sent = o.send;
    }
    return sent;
  }
  model m;
  log_view logs;
  controller keys;
};

} // namespace

TEST_CASE("top keys: restart asks first, y sends it, anything else cancels") {
  fixture f;
  f.m.select_last(); // web.api#1
  auto o = f.press('r');
  CHECK_FALSE(o.send);
  CHECK(f.keys.status_line() == "restart web.api#1? [y/N]");
  o = f.press('y');
  REQUIRE(o.send);
  CHECK(o.send->cmd == "restart");
  CHECK(o.send->args == json{{"names", {"web.api#1"}}});
  f.press('x');
  o = f.press('n');
  CHECK_FALSE(o.send);
  CHECK(f.keys.status_line() == "cancelled");
}

TEST_CASE("top keys: start and reload go at once, stop and signal ask") {
  fixture f;
  f.m.move(2); // web.api
  auto o = f.press('s');
  REQUIRE(o.send);
  CHECK(o.send->cmd == "start");
  CHECK(o.send->args == json{{"names", {"web.api"}}});
  o = f.press('R');
  REQUIRE(o.send);
  CHECK(o.send->cmd == "reload");
  CHECK_FALSE(f.press('x').send);
  CHECK(f.press('y').send->cmd == "stop");
  // Signal: a prompt for the name, then a confirmation.
  f.press('K');
  CHECK_FALSE(f.type("hup\n").has_value()); // '\n' is not Enter: the view maps it
  f.press(key_escape);
  f.press('K');
  f.type("usr1");
  CHECK_FALSE(f.press(key_enter).send);
  CHECK(f.keys.status_line() == "send SIGUSR1 to web.api? [y/N]");
  auto sig = f.press('y').send;
  REQUIRE(sig);
  CHECK(sig->args == json{{"names", {"web.api"}}, {"signal", "USR1"}});
}

TEST_CASE("top keys: the root group's actions name all") {
  fixture f;
  CHECK(f.press('s').send->args == json{{"names", {"all"}}});
}

TEST_CASE("top keys: scale up goes at once, scale down asks, S takes a count") {
  fixture f;
  f.m.select_last(); // an instance: its app is scaled
  auto up = f.press('+').send;
  REQUIRE(up);
  CHECK(up->cmd == "scale");
  CHECK(up->args == json{{"name", "web.api"}, {"instances", 3}});
  CHECK_FALSE(f.press('-').send);
  CHECK(f.keys.status_line() == "scale web.api from 2 to 1? [y/N]");
  CHECK(f.press('y').send->args["instances"] == 1);
  f.press('S');
  f.type("5");
  CHECK(f.press(key_enter).send->args["instances"] == 5);
  f.press('S');
  f.type("x");
  CHECK_FALSE(f.press(key_enter).send);
  CHECK(f.keys.status_line().rfind("scale: N must be", 0) == 0);
  f.m.select_first(); // a group cannot be scaled
  CHECK_FALSE(f.press('+').send);
  CHECK(f.keys.status_line() == "scale: select an app or an instance");
}

TEST_CASE("top keys: the help line fits in 80 columns, read-only or not") {
  CHECK(controller{false}.status_line().size() <= 80);
  CHECK(controller{true}.status_line().size() <= 80);
}

TEST_CASE("top keys: read-only sends nothing") {
  fixture f{true};
  f.m.select_last();
  for (int k : {'s', 'x', 'r', 'R', '+', '-', 'S', 'K'}) {
    CHECK_FALSE(f.press(k).send);
    CHECK_FALSE(f.press('y').send);
  }
  CHECK(f.keys.status_line().find("read-only") != std::string::npos);
}

TEST_CASE("top keys: the filter follows each key, Escape clears it") {
  fixture f;
  f.press('f');
  f.type("api#1");
  CHECK(f.m.rows().size() == 4);
  CHECK(f.keys.status_line() == "filter: api#1");
  f.press(key_backspace);
  f.press(key_enter);
  CHECK(f.m.filter() == "api#");
  CHECK(f.m.rows().size() == 5);
  f.press(key_escape);
  CHECK(f.m.filter().empty());
}

TEST_CASE("top keys: / searches the logs and shows the log pane, tab switches panes, q quits") {
  fixture f;
  CHECK(f.keys.lower() == pane::events);
  f.press(key_tab);
  CHECK(f.keys.lower() == pane::logs);
  f.press(key_tab);
  f.logs.add({"web.api#0 | boom", true});
  f.logs.add({"web.api#0 | fine", false});
  f.press('/');
  CHECK(f.keys.lower() == pane::logs);
  f.type("boom");
  f.press(key_enter);
  CHECK(f.logs.term() == "boom");
  CHECK_FALSE(f.logs.following());
  f.press('o');
  CHECK(f.logs.streams() == log_streams::out);
  f.press('w');
  CHECK(f.logs.wrap());
  CHECK(f.press('q').quit);
}
