// What `restart all` restarts (src/daemon/restart_all.hpp): a pure function
// of the spec and the tree's status.

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "daemon/restart_all.hpp"

using namespace arbor;
using namespace arbor::detail;

namespace {

tree_spec load(const std::string& toml) {
  auto res = config::load_string(toml, "t.toml", "/tmp");
  REQUIRE(res.ok());
  return *res.tree;
}

instance_status inst(const std::string& id, proc_state state, const std::string& last_exit) {
  instance_status x;
  x.id = id;
  x.state = state;
  x.last_exit = last_exit;
  return x;
}

node_status app(const std::string& name, std::vector<instance_status> xs) {
  node_status n;
  n.name = name;
  n.instances = std::move(xs);
  return n;
}

node_status group(const std::string& name, std::vector<node_status> children) {
  node_status n;
  n.name = name;
  n.is_group = true;
  n.children = std::move(children);
  return n;
}

const char* const toml = "[web.api]\ncommand = \"a\"\nrestart = \"always\"\n"
                         "[jobs.migrate]\ncommand = \"m\"\nrestart = \"never\"\n"
                         "[jobs.ticker]\ncommand = \"t\"\nrestart = \"on_failure\"\n"
                         "[jobs.deep.sweep]\ncommand = \"s\"\n";

node_status tree(proc_state migrate, const std::string& migrate_exit, proc_state ticker,
                 const std::string& ticker_exit) {
  auto running = proc_state::running;
  return group("", {group("web", {app("web.api", {inst("web.api#0", running, "")})}),
                    group("jobs", {app("jobs.migrate", {inst("jobs.migrate#0", migrate, migrate_exit)}),
                                   app("jobs.ticker", {inst("jobs.ticker#0", ticker, ticker_exit)}),
                                   group("jobs.deep", {app("jobs.deep.sweep",
                                                           {inst("jobs.deep.sweep#0", running, "")})})})});
}

} // namespace

TEST_CASE("restart all: the root as one group when nothing finished") {
  auto spec = load(toml);
  auto n = tree(proc_state::running, "", proc_state::running, "");
  CHECK(restart_all_addresses(spec.root, n) == std::vector<std::string>{""});
  // Stopped by hand (the exit says why), or failed: not finished, restarted.
  n = tree(proc_state::stopped, "manual (exit(0))", proc_state::failed, "exit(1)");
  CHECK(restart_all_addresses(spec.root, n) == std::vector<std::string>{""});
}

TEST_CASE("restart all: a one-shot that exited cleanly stays finished, its group is opened up") {
  auto spec = load(toml);
  auto n = tree(proc_state::stopped, "exit(0)", proc_state::running, "");
  CHECK(restart_all_addresses(spec.root, n)
        == std::vector<std::string>{"web", "jobs.ticker", "jobs.deep"});
  // on_failure after exit(0) is finished too; a failed exit is not.
  n = tree(proc_state::stopped, "exit(1)", proc_state::stopped, "exit(0)");
  CHECK(restart_all_addresses(spec.root, n)
        == std::vector<std::string>{"web", "jobs.migrate", "jobs.deep"});
}

TEST_CASE("finished_one_shot: restart=always never finishes, every instance must have") {
  auto spec = load(toml);
  auto always = spec.root.children[0].group.children[0].app; // web.api
  auto done = app("x", {inst("x#0", proc_state::stopped, "exit(0)")});
  CHECK_FALSE(finished_one_shot(done, always));
  auto never = spec.root.children[1].group.children[0].app; // jobs.migrate
  CHECK(finished_one_shot(done, never));
  auto half = app("x", {inst("x#0", proc_state::stopped, "exit(0)"),
                        inst("x#1", proc_state::running, "")});
  CHECK_FALSE(finished_one_shot(half, never));
  CHECK_FALSE(finished_one_shot(app("x", {}), never));
}
