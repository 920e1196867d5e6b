// `arbor check`'s warnings: what a valid config names that is not there now.

#include <catch2/catch.hpp>

#include "cli/commands.hpp"
#include "config/loader.hpp"

using namespace arbor;

namespace {

tree_spec load(const std::string& toml) {
  auto res = config::load_string(toml, "t.toml", "/tmp");
  INFO((res.errors.empty() ? "" : res.errors.front().to_string()));
  REQUIRE(res.ok());
  return *res.tree;
}

} // namespace

TEST_CASE("check_warnings: a missing command or cwd warns, one line per app") {
  auto tree = load("[ok]\ncommand = \"sh -c true\"\n"
                   "[web.typo]\ncommand = \"no-such-command-arbor-test --port 1\"\n"
                   "[gone]\ncommand = \"sh\"\ncwd = \"/no/such/dir-arbor-test\"\n"
                   "[own_path]\ncommand = \"sh\"\nenv = { PATH = \"/no/such/bin\" }\n");
  auto ws = cli::check_warnings(tree, "/usr/bin:/bin");
  REQUIRE(ws.size() == 3);
  CHECK(ws[0].rfind("web.typo: ", 0) == 0);
  CHECK(ws[0].find("no-such-command-arbor-test") != std::string::npos);
  CHECK(ws[1].rfind("gone: ", 0) == 0);
  CHECK(ws[1].find("/no/such/dir-arbor-test") != std::string::npos);
  CHECK(ws[2].rfind("own_path: ", 0) == 0); // the app's PATH, not the CLI's
  CHECK(cli::check_warnings(load("[ok]\ncommand = \"sh\"\n"), "/usr/bin:/bin").empty());
}
