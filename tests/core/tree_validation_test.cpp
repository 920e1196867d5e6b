// supervision_tree's constructor runs the config loader's rules on a spec
// built in code, with the loader's words.

#include <catch2/catch.hpp>

#include <csignal>
#include <stdexcept>

#include "config/loader.hpp"
#include "harness.hpp"

namespace {

using namespace arbor;

app_spec app(const std::string& name, std::vector<std::string> depends_on = {}) {
  app_spec a;
  a.name = name;
  a.command = "true";
  a.argv = {"/bin/true"};
  a.depends_on = std::move(depends_on);
  return a;
}

node_spec node(app_spec a) {
  node_spec n;
  n.type = node_spec::kind::app;
  n.app = std::move(a);
  return n;
}

/// What the constructor throws for `spec` ("" if it accepts it).
std::string refusal(tree_spec spec) {
  test::test_config cfg;
  caf::actor_system sys{cfg};
  try {
    supervision_tree tree{sys, std::move(spec)};
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

/// The loader's one message for `toml`, without its position.
std::string loader_message(const std::string& toml) {
  auto r = config::load_string(toml, "t.toml", "/srv");
  REQUIRE(r.errors.size() == 1);
  return r.errors.front().message;
}

} // namespace

TEST_CASE("supervision_tree: a hand-built depends_on cycle is refused as the loader words it") {
  tree_spec spec;
  spec.root.children = {node(app("a", {"b"})), node(app("b", {"a"}))};
  auto from_toml = loader_message("[a]\ncommand = \"true\"\ndepends_on = [\"b\"]\n"
                                  "[b]\ncommand = \"true\"\ndepends_on = [\"a\"]\n");
  CHECK(from_toml == "dependency cycle: a -> b -> a");
  CHECK(refusal(spec) == from_toml);
}

TEST_CASE("supervision_tree: an unknown depends_on and a port range are refused as from TOML") {
  tree_spec unknown;
  unknown.root.children = {node(app("db")), node(app("a", {"dbx"}))};
  CHECK(refusal(unknown)
        == loader_message("[db]\ncommand = \"true\"\n[a]\ncommand = \"true\"\n"
                          "depends_on = [\"dbx\"]\n"));

  tree_spec ports;
  auto a = app("a");
  a.port = 65534;
  a.instances = 3;
  ports.root.children = {node(a)};
  CHECK(refusal(ports)
        == loader_message("[a]\ncommand = \"true\"\nport = 65534\ninstances = 3\n"));

  tree_spec backoff;
  auto b = app("a");
  b.backoff_base = std::chrono::minutes(1);
  backoff.root.children = {node(b)};
  CHECK(refusal(backoff)
        == loader_message("[a]\ncommand = \"true\"\nbackoff_base_ms = \"1m\"\n"));
}

TEST_CASE("supervision_tree: a hand-built spec starts in depends_on order") {
  tree_spec spec;
  group_spec g;
  g.name = "back";
  g.children = {node(app("back.db"))};
  node_spec group;
  group.type = node_spec::kind::group;
  group.group = g;
  spec.root.children = {node(app("web", {"db"})), group};
  test::test_config cfg;
  caf::actor_system sys{cfg};
  supervision_tree tree{sys, spec};
  auto status = tree.status();
  REQUIRE(status);
  REQUIRE(status->children.size() == 2);
  CHECK(status->children[0].name == "back");
  CHECK(status->children[1].name == "web");
}

TEST_CASE("supervision_tree: apply at the root refuses what the constructor refuses") {
  tree_spec spec;
  spec.root.children = {node(app("a")), node(app("b"))};
  test::test_config cfg;
  caf::actor_system sys{cfg};
  supervision_tree tree{sys, spec};
  auto cyclic = spec.root;
  cyclic.children = {node(app("a", {"b"})), node(app("b", {"a"}))};
  caf::scoped_actor self{sys};
  std::string refused;
  self->request(tree.root(), caf::infinite, apply_atom::value,
                std::make_shared<const group_spec>(cyclic))
    .receive([](apply_report&) {}, [&](caf::error& e) { refused = sys.render(e); });
  CHECK(refused.find("dependency cycle: a -> b -> a") != std::string::npos);
}

TEST_CASE("supervision_tree: a hand-built app with nothing to run is refused, not started") {
  tree_spec empty_argv;
  auto a = app("a");
  a.argv = {};
  empty_argv.root.children = {node(a)};
  CHECK(refusal(empty_argv) == loader_message("[a]\nargs = []\n"));
  CHECK(refusal(empty_argv) == "'args' is empty in app 'a': args[0] is the program to run");

  tree_spec blank;
  auto b = app("a");
  b.command = "";
  b.argv = {};
  blank.root.children = {node(b)};
  CHECK(refusal(blank) == loader_message("[a]\ncommand = \"\"\n"));
}

TEST_CASE("supervision_tree: names and values are refused as the loader words them") {
  tree_spec reserved;
  reserved.root.children = {node(app("all"))};
  CHECK(refusal(reserved) == loader_message("[all]\ncommand = \"true\"\n"));

  tree_spec ready;
  auto a = app("a");
  a.ready = "yes";
  a.kill_signal = SIGSTOP;
  ready.root.children = {node(a)};
  CHECK(refusal(ready)
        == "'kill_signal' cannot be SIGSTOP: it pauses a process instead of ending it\n"
           "'ready' must be \"notify\", got 'yes'");
  CHECK(loader_message("[a]\ncommand = \"true\"\nready = \"yes\"\n")
        == "'ready' must be \"notify\", got 'yes'");
}
