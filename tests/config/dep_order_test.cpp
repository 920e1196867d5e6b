// depends_on reorders siblings: a child starts after what it depends on.

#include <catch2/catch.hpp>

#include "config/loader.hpp"

namespace {

std::vector<std::string> names(const arbor::group_spec& g) {
  std::vector<std::string> out;
  for (auto& c : g.children) out.push_back(c.name());
  return out;
}

arbor::tree_spec load(const std::string& text) {
  auto r = arbor::config::load_string(text, "t.toml", "/srv/app");
  std::string first = r.errors.empty() ? std::string{} : r.errors.front().message;
  INFO(first);
  REQUIRE(r.ok());
  return *r.tree;
}

} // namespace

TEST_CASE("depends_on: an app starts after the apps it depends on") {
  auto t = load("[web]\ncommand = \"x\"\ndepends_on = [\"db\", \"cache\"]\n"
                "[cache]\ncommand = \"x\"\ndepends_on = [\"db\"]\n"
                "[db]\ncommand = \"x\"\n"
                "[other]\ncommand = \"x\"\n");
  CHECK(names(t.root) == std::vector<std::string>{"db", "cache", "web", "other"});
}

TEST_CASE("depends_on: without dependencies the file order stays") {
  auto t = load("[b]\ncommand = \"x\"\n[a]\ncommand = \"x\"\n[c]\ncommand = \"x\"\n");
  CHECK(names(t.root) == std::vector<std::string>{"b", "a", "c"});
}

TEST_CASE("depends_on: groups are ordered by the dependencies of their apps") {
  auto t = load("[front]\n[front.web]\ncommand = \"x\"\ndepends_on = [\"back\"]\n"
                "[back]\n[back.api]\ncommand = \"x\"\ndepends_on = [\"back.db\"]\n"
                "[back.db]\ncommand = \"x\"\n");
  CHECK(names(t.root) == std::vector<std::string>{"back", "front"});
  REQUIRE(t.root.children[0].type == arbor::node_spec::kind::group);
  CHECK(names(t.root.children[0].group) == std::vector<std::string>{"back.db", "back.api"});
  CHECK(t.root.children[1].group.children[0].app.depends_on == std::vector<std::string>{"back"});
}

TEST_CASE("depends_on: groups depending on each other keep file order") {
  // Apps are acyclic (x.a → y.b → x.c), the groups x and y are not.
  auto t = load("[x]\n[x.a]\ncommand = \"q\"\ndepends_on = [\"y.b\"]\n"
                "[x.c]\ncommand = \"q\"\n"
                "[y]\n[y.b]\ncommand = \"q\"\ndepends_on = [\"x.c\"]\n");
  CHECK(names(t.root) == std::vector<std::string>{"x", "y"});
  CHECK(names(t.root.children[0].group) == std::vector<std::string>{"x.a", "x.c"});
}
