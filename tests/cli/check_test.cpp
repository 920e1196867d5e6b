// `arbor check`'s warnings: what a valid config names that is not there now,
// and how each app becomes ready.

#include <catch2/catch.hpp>

#include "cli/commands.hpp"
#include "config/loader.hpp"

using namespace arbor;

TEST_CASE("check_warnings: a missing command or cwd warns, one line per app") {
  auto res = config::load_string("[ok]\ncommand = \"sh -c true\"\n"
                                 "[web.typo]\ncommand = \"no-such-command-arbor-test --port 1\"\n"
                                 "[gone]\ncommand = \"sh\"\ncwd = \"/no/such/dir-arbor-test\"\n"
                                 "[own_path]\ncommand = \"sh\"\nenv = { PATH = \"/no/such/bin\" }\n",
                                 "t.toml", "/tmp");
  REQUIRE(res.ok());
  auto ws = cli::check_warnings(*res.tree, "/usr/bin:/bin");
  REQUIRE(ws.size() == 3);
  CHECK(ws[0].rfind("web.typo: ", 0) == 0);
  CHECK(ws[0].find("no-such-command-arbor-test") != std::string::npos);
  CHECK(ws[1].rfind("gone: ", 0) == 0);
  CHECK(ws[1].find("/no/such/dir-arbor-test") != std::string::npos);
  CHECK(ws[2].rfind("own_path: ", 0) == 0); // the app's PATH, not the CLI's
  auto fine = config::load_string("[ok]\ncommand = \"sh\"\n", "t.toml", "/tmp");
  REQUIRE(fine.ok());
  CHECK(cli::check_warnings(*fine.tree, "/usr/bin:/bin").empty());
}

TEST_CASE("check: how each app becomes ready, and a check that cannot tell instances apart") {
  auto res = config::load_string(
    "[web]\ncommand = \"sh\"\ninstances = 2\nhealth_check = \"http://127.0.0.1:8000/health\"\n"
    "[api]\ncommand = \"sh\"\ninstances = 2\nport = 9000\n"
    "health_check = \"http://127.0.0.1:9000/health\"\n"
    "[job]\ncommand = \"sh\"\nmin_uptime = 0\n",
    "t.toml", "/tmp");
  REQUIRE(res.ok());
  CHECK(cli::render_readiness(*res.tree)
        == "ready when:\n"
           "  web: health check http://127.0.0.1:8000/health passes and this instance listens on "
           "127.0.0.1:8000 (while other runs of web serve that port)\n"
           "  api: health check http://127.0.0.1:9000/health passes and this instance listens on "
           "127.0.0.1:9000 (while other runs of api serve that port)\n"
           "  job: immediately\n");
  auto ws = cli::readiness_warnings(*res.tree);
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].rfind("api: the health check targets 127.0.0.1:9000 whatever PORT a run gets", 0)
        == 0);
}
