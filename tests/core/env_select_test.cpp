// Environments: `--env NAME` lays each app's env_NAME over its env in the
// processes it starts; the daemon keeps the selection for the file it runs
// (apply without --env, and the keeper's replacement daemon), not for
// another file.

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;
using Catch::Contains;

namespace {

/// NAME's value in /proc/<pid>/environ; "<unset>" if it is not there.
std::string env_of(int pid, const std::string& name) {
  std::istringstream in{slurp("/proc/" + std::to_string(pid) + "/environ")};
  for (std::string kv; std::getline(in, kv, '\0');)
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
  return "<unset>";
}

std::string config() {
  const auto sleep = child_args({"sleep"});
  return "[web]\nargs = " + sleep + "\nenv = { NODE_ENV = \"development\", KEEP = \"k\" }\n"
         + "[web.env_production]\nNODE_ENV = \"production\"\n"
         + "[worker]\nargs = " + sleep + "\nenv = { NODE_ENV = \"development\" }\n";
}

/// A home of its own where `arbor up arbor.toml --env production` ran on
/// config(); the guard ends what a failing test leaves.
struct production_daemon {
  temp_dir d;
  std::string home = d.file("home");
  daemon_guard guard{home};
  cli_result up;
  production_daemon() {
    std::ofstream(d.file("arbor.toml")) << config();
    up = run_arbor({"up", d.file("arbor.toml"), "--env", "production"}, home);
  }
};

/// The environment the daemon runs (`apply --dry-run --json`'s applied_env).
std::string applied_env(const std::string& home) {
  return arbor_json({"apply", "--dry-run"}, home).value("applied_env", std::string{"?"});
}

} // namespace

TEST_CASE("env select: up --env production starts apps with env_production over env") {
  production_daemon p;
  const auto& [d, home, guard, up] = p;
  INFO(up.out << up.err);
  REQUIRE(up.rc == 0);
  CHECK_THAT(up.out, Contains("(environment production): 2 apps"));
  REQUIRE(eventually([&] { return pids_of(home).size() == 2; }));
  auto pids = pids_of(home);
  CHECK(env_of(pids["web#0"], "NODE_ENV") == "production");
  CHECK(env_of(pids["web#0"], "KEEP") == "k");
  CHECK(env_of(pids["worker#0"], "NODE_ENV") == "development"); // no env_production: its env

  // apply without --env on the same file keeps production: nothing restarts.
  auto same = run_arbor({"apply", d.file("arbor.toml")}, home);
  CHECK(same.rc == 0);
  CHECK_THAT(same.out, Contains("no changes"));
  CHECK(pids_of(home) == pids);
  CHECK(applied_env(home) == "production");

  // --env '' selects none: only the app whose env changes restarts.
  auto none = run_arbor({"apply", "--env", ""}, home);
  INFO(none.out << none.err);
  CHECK(none.rc == 0);
  CHECK_THAT(none.out, Contains("~ web (restarted: env changed)"));
  REQUIRE(eventually([&] { return pids_of(home)["web#0"] != pids["web#0"]; }));
  auto after = pids_of(home);
  CHECK(env_of(after["web#0"], "NODE_ENV") == "development");
  CHECK(after["worker#0"] == pids["worker#0"]);
  CHECK(applied_env(home) == "");

  // An environment no app defines changes nothing and says which there are.
  auto bad = run_arbor({"apply", "--env", "staging"}, home);
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Contains("no app defines env_staging; the file defines: production"));
  CHECK(pids_of(home) == after);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("env select: another file without --env runs with none") {
  production_daemon p;
  const auto& [d, home, guard, up_production] = p;
  REQUIRE(up_production.rc == 0);
  std::ofstream(d.file("two.toml")) << config();
  auto up = run_arbor({"up", d.file("two.toml")}, home);
  INFO(up.out << up.err);
  CHECK(up.rc == 0);
  CHECK_THAT(up.out, Contains("~ web (restarted: env changed)"));
  REQUIRE(eventually([&] { return env_of(pids_of(home)["web#0"], "NODE_ENV") == "development"; }));
  CHECK(applied_env(home) == "");
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("env select: a daemon the keeper starts after a SIGKILL runs the same environment") {
  production_daemon p;
  const auto& home = p.home;
  REQUIRE(p.up.rc == 0);
  REQUIRE(eventually([&] { return pids_of(home).size() == 2; }));
  const auto pids = pids_of(home);
  REQUIRE(replace_daemon(home));
  CHECK(applied_env(home) == "production");
  // Its apps were re-adopted, and applying the file again restarts none.
  CHECK(pids_of(home) == pids);
  CHECK_THAT(run_arbor({"apply"}, home).out, Contains("no changes"));
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("env select: check and up refuse an environment no app defines") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  std::ofstream(d.file("arbor.toml")) << config();
  auto ok = run_arbor({"check", d.file("arbor.toml"), "--env", "production"}, home);
  CHECK(ok.rc == 0);
  CHECK_THAT(ok.out, Contains("environment: production (each app's env_production over its env)"));
  auto bad = run_arbor({"check", d.file("arbor.toml"), "--env", "prod"}, home);
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Contains("no app defines env_prod; the file defines: production"));
  auto up = run_arbor({"up", d.file("arbor.toml"), "--env", "prod"}, home);
  CHECK(up.rc == 2);
  CHECK(daemon_pid(home) == 0);
}
