// The plan `apply --dry-run` prints, from two specs alone.

#include <catch2/catch.hpp>

#include "config/apply_plan.hpp"
#include "config/loader.hpp"

using arbor::config::plan_apply;

namespace {

arbor::group_spec root_of(const std::string& toml) {
  auto r = arbor::config::load_string(toml, "t.toml", "/srv");
  REQUIRE(r.ok());
  return r.tree->root;
}

} // namespace

TEST_CASE("apply plan: added, removed (a whole group), changed with its keys, scaled, unchanged") {
  auto before = root_of("[a]\ncommand = \"x\"\n[old]\n[old.p]\ncommand = \"p\"\n[old.q]\ncommand = \"q\"\n"
                        "[web]\n[web.api]\ncommand = \"api\"\ninstances = 2\n[web.front]\ncommand = \"f\"\n"
                        "[w]\ncommand = \"w\"\n");
  auto after = root_of("[a]\ncommand = \"x\"\nenv = { K = \"v\" }\nkill_timeout = 100\n"
                       "[web]\n[web.api]\ncommand = \"api\"\ninstances = 4\n[web.front]\ncommand = \"f\"\n"
                       "[web.new]\ncommand = \"n\"\n[w]\ncommand = \"w2\"\ninstances = 3\n");
  auto p = plan_apply(before, after);
  CHECK(p.added == std::vector<std::string>{"web.new"});
  CHECK(p.removed == std::vector<std::string>{"old.p", "old.q"});
  CHECK(p.unchanged == std::vector<std::string>{"web.front"});
  REQUIRE(p.scaled.size() == 1);
  CHECK(p.scaled[0].app == "web.api");
  CHECK(p.scaled[0].from == 2);
  CHECK(p.scaled[0].to == 4);
  REQUIRE(p.changed.size() == 2);
  CHECK(p.changed[0].app == "a");
  CHECK(p.changed[0].keys == std::vector<std::string_view>{"env", "kill_timeout"});
  // A changed command with a changed count: a restart, both keys named.
  CHECK(p.changed[1].app == "w");
  CHECK(p.changed[1].keys == std::vector<std::string_view>{"command", "instances"});
}

TEST_CASE("apply plan: the same file plans nothing, an app that became a group is removed and added") {
  const std::string text = "[a]\ncommand = \"x\"\n[g]\n[g.b]\ncommand = \"y\"\n";
  auto same = plan_apply(root_of(text), root_of(text));
  CHECK(same.added.empty());
  CHECK(same.removed.empty());
  CHECK(same.changed.empty());
  CHECK(same.scaled.empty());
  CHECK(same.unchanged == std::vector<std::string>{"a", "g.b"});
  auto p = plan_apply(root_of("[a]\ncommand = \"x\"\n"), root_of("[a]\n[a.b]\ncommand = \"y\"\n"));
  CHECK(p.removed == std::vector<std::string>{"a"});
  CHECK(p.added == std::vector<std::string>{"a.b"});
}

TEST_CASE("apply plan: a changed app with readiness reloads, unless a key its supervisor holds changed") {
  const std::string check = "[a.health_check]\ntcp = \"127.0.0.1:{port}\"\n";
  auto with = [&](const std::string& keys, const std::string& tail) {
    return root_of("[a]\ncommand = \"x\"\nport = 3000\n" + keys + tail);
  };
  using arbor::config::reloads_on_apply;
  auto app = [](const arbor::group_spec& g) { return g.children.at(0).app; };
  // command, env, instances, the check itself: a rolling reload.
  CHECK(reloads_on_apply(app(with("", check)), app(with("env = { K = \"v\" }\ninstances = 3\n", check))));
  CHECK(reloads_on_apply(app(with("", "ready = \"notify\"\n")),
                         app(with("kill_timeout = 100\n", "ready = \"notify\"\n"))));
  // No readiness in the new spec: nothing to wait for, a stop and a start.
  CHECK_FALSE(reloads_on_apply(app(with("", check)), app(with("env = { K = \"v\" }\n", ""))));
  // Keys the app's supervisor holds itself.
  for (auto held : {"watch = true\n", "cron_restart = \"0 3 * * *\"\n", "log_max_files = 3\n",
                    "listen = \"127.0.0.1:4000\"\n"}) {
    INFO(held);
    CHECK_FALSE(reloads_on_apply(app(with("", check)), app(with(held, check))));
  }
  auto p = plan_apply(with("", check), with("env = { K = \"v\" }\n", check));
  REQUIRE(p.changed.size() == 1);
  CHECK(p.changed[0].reload);
  p = plan_apply(with("", ""), with("env = { K = \"v\" }\n", ""));
  REQUIRE(p.changed.size() == 1);
  CHECK_FALSE(p.changed[0].reload);
}
