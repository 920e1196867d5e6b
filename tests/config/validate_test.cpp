// validate(): the rules of a tree spec however it was built.

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/validate.hpp"

namespace {

using namespace arbor;

node_spec app(const std::string& name, std::vector<std::string> depends_on = {}) {
  node_spec n;
  n.app.name = name;
  n.app.argv = {"x"};
  n.app.depends_on = std::move(depends_on);
  return n;
}

std::vector<std::string> texts(const std::vector<config::diagnostic>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.to_string());
  return out;
}

} // namespace

TEST_CASE("validate: resolves a last segment, orders, and changes nothing the second time") {
  tree_spec t;
  node_spec back;
  back.type = node_spec::kind::group;
  back.group.name = "back";
  back.group.children = {app("back.db")};
  t.root.children = {app("web", {"db", "back.db"}), back};
  CHECK(config::validate(t).empty());
  REQUIRE(t.root.children.size() == 2);
  CHECK(t.root.children[0].name() == "back");
  CHECK(t.root.children[1].app.depends_on == std::vector<std::string>{"back.db"});
  auto again = t;
  CHECK(config::validate(again).empty());
  CHECK(again.root.children[0].name() == "back");
  CHECK(again.root.children[1].app.same_run_spec(t.root.children[1].app));
}

TEST_CASE("validate: a hand-built spec's errors are the bare messages, all at once") {
  tree_spec t;
  auto a = app("a", {"a"});
  a.app.instances = 0;
  auto b = app("b");
  b.app.backoff_base = millis{0};
  t.root.children = {a, b};
  CHECK(texts(config::validate(t))
        == std::vector<std::string>{"'instances' must be between 1 and 10000, got 0",
                                    "'backoff_base_ms' must be greater than 0",
                                    "dependency cycle: a -> a"});
}

TEST_CASE("validate: a spec from a file points at the key's value") {
  auto r = config::load_string("[a]\ncommand = \"x\"\nbackoff_base_ms = 0\n", "t.toml", "/srv");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "t.toml:3:19: 'backoff_base_ms' must be greater than 0");
}
