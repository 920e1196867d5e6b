#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/targets.hpp"

using namespace arbor;
using arbor::config::resolve_targets;

namespace {

tree_spec tree() {
  auto r = config::load_string("[web.api]\ncommand = \"a\"\ninstances = 2\n"
                               "[web.worker]\ncommand = \"w\"\n"
                               "[jobs.worker]\ncommand = \"w\"\n"
                               "[jobs.nightly.report]\ncommand = \"r\"\n"
                               "[migrate]\ncommand = \"m\"\n",
                               "t.toml", "/srv");
  REQUIRE(r.ok());
  return *r.tree;
}

} // namespace

TEST_CASE("targets: full paths of apps and groups, and all") {
  auto t = tree();
  auto r = resolve_targets(t.root, {"web.api", "jobs", "all"});
  REQUIRE(r.ok());
  REQUIRE(r.targets.size() == 3);
  CHECK(r.targets[0].path == "web.api");
  CHECK_FALSE(r.targets[0].is_group);
  CHECK(r.targets[1].path == "jobs");
  CHECK(r.targets[1].is_group);
  CHECK(r.targets[2].path == "");
  CHECK(r.targets[2].is_group);
}

TEST_CASE("targets: an app's last segment when unambiguous") {
  auto t = tree();
  auto r = resolve_targets(t.root, {"api", "report"});
  REQUIRE(r.ok());
  CHECK(r.targets[0].path == "web.api");
  CHECK(r.targets[1].path == "jobs.nightly.report");
  auto amb = resolve_targets(t.root, {"worker"});
  CHECK(amb.error_code == "ambiguous");
  CHECK(amb.error.find("'web.worker' or 'jobs.worker'") != std::string::npos);
}

TEST_CASE("targets: instances are app#N and must exist") {
  auto t = tree();
  config::instance_counts running{{"web.api", 2}};
  auto r = resolve_targets(t.root, {"api#1", "web.api#0"}, running);
  REQUIRE(r.ok());
  CHECK(r.targets[0].address() == "web.api#1");
  CHECK(r.targets[1].address() == "web.api#0");
  auto out = resolve_targets(t.root, {"api#2"}, running);
  CHECK(out.error_code == "not_found");
  CHECK(out.error.find("has 2 instances (#0..#1)") != std::string::npos);
  CHECK(resolve_targets(t.root, {"web#0"}, running).error_code == "invalid_argument");
  CHECK(resolve_targets(t.root, {"api#x"}).error_code == "invalid_argument");
  CHECK(resolve_targets(t.root, {"api#"}).error_code == "invalid_argument");
  // The running count decides, not the spec's: after a scale to 3, #2 exists.
  CHECK(resolve_targets(t.root, {"api#2"}, {{"web.api", 3}}).ok());
  CHECK(resolve_targets(t.root, {"api#0"}, {{"web.api", 0}}).error
        == "'api#0': web.api has 0 instances");
}

TEST_CASE("targets: unknown names suggest the closest") {
  auto t = tree();
  auto r = resolve_targets(t.root, {"web.apo"});
  CHECK(r.error_code == "not_found");
  CHECK(r.error.find("did you mean 'web.api'") != std::string::npos);
  CHECK(resolve_targets(t.root, {"migrat"}).error.find("'migrate'") != std::string::npos);
}

TEST_CASE("targets: duplicates collapse, app_paths and finders walk the tree in order") {
  auto t = tree();
  auto r = resolve_targets(t.root, {"api", "web.api"});
  REQUIRE(r.ok());
  CHECK(r.targets.size() == 1);
  CHECK(config::app_paths(t.root)
        == std::vector<std::string>{"web.api", "web.worker", "jobs.worker", "jobs.nightly.report",
                                    "migrate"});
  CHECK(config::app_paths(*config::find_group(t.root, "jobs"))
        == std::vector<std::string>{"jobs.worker", "jobs.nightly.report"});
  REQUIRE(config::find_app(t.root, "jobs.nightly.report") != nullptr);
  CHECK(config::find_app(t.root, "jobs.nightly") == nullptr);
  CHECK(config::find_group(t.root, "jobs.nightly") != nullptr);
}
