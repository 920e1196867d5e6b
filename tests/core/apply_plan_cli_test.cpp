// A safe apply: `apply --dry-run` prints the plan and changes nothing; `up`
// with another file than the applied one refuses to stop apps without
// `--yes` when nobody can be asked.

#include <catch2/catch.hpp>

#include <fstream>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;
using Catch::Contains;

TEST_CASE("apply --dry-run: added, removed, the keys of a change and a scale, nothing touched") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  const auto sleep = child_args({"sleep"});
  up_with(home, d.file("one.toml"),
          "[a]\nargs = " + sleep + "\n[b]\nargs = " + sleep + "\n[w]\nargs = " + sleep
            + "\ninstances = 2\n");
  REQUIRE(eventually([&] { return pids_of(home).size() == 4; }));
  const auto before = pids_of(home);
  std::ofstream(d.file("two.toml")) << "[a]\nargs = " << sleep
                                    << "\nenv = { X = \"1\" }\nkill_timeout = 3000\n[w]\nargs = "
                                    << sleep << "\ninstances = 3\n[c]\nargs = " << sleep << "\n";

  auto plan = run_arbor({"apply", "--dry-run", d.file("two.toml")}, home);
  INFO(plan.out << plan.err);
  REQUIRE(plan.rc == 0);
  CHECK(plan.out
        == "+ c (would start)\n- b (would stop)\n~ a (would restart: env, kill_timeout changed)\n"
           "~ w (would scale 2 → 3)\n0 unchanged\ndry run: nothing was changed\n");
  auto json = arbor_json({"apply", "--dry-run", d.file("two.toml")}, home);
  CHECK(json["dry_run"] == true);
  CHECK(json["changes"]["a"] == nlohmann::json{"env", "kill_timeout"});
  CHECK(json["applied_file"] == d.file("one.toml"));
  CHECK(pids_of(home) == before);

  // Not on a terminal: another file that stops b is refused, nothing changes.
  auto up = run_arbor({"up", d.file("two.toml")}, home);
  CHECK(up.rc == 1);
  CHECK_THAT(up.err, Contains("is not the applied config (" + d.file("one.toml")
                              + ") and would stop 1 app: b; nothing changed (--yes applies it)"));
  CHECK(pids_of(home) == before);

  auto yes = run_arbor({"up", "--yes", d.file("two.toml")}, home);
  INFO(yes.out << yes.err);
  CHECK(yes.rc == 0);
  CHECK_THAT(yes.out, Contains("~ a (restarted: env, kill_timeout changed)"));
  CHECK_THAT(yes.out, Contains("~ w (scaled 2 → 3)"));
  REQUIRE(eventually([&] { return pids_of(home).size() == 5; }));
  CHECK(pids_of(home).count("b#0") == 0);
  // The same file again stops nothing: no question.
  CHECK(run_arbor({"up", d.file("two.toml")}, home).rc == 0);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("up and apply: an app they start that cannot be spawned is named, and the exit is 1") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  const auto sleep = child_args({"sleep"});
  std::ofstream(d.file("a.toml")) << "[ok]\nargs = " << sleep
                                  << "\n[bad]\ncommand = \"/nonexistent/arbor-app\"\n";
  auto up = run_arbor({"up", d.file("a.toml")}, home);
  INFO(up.out << up.err);
  CHECK(up.rc == 1);
  CHECK_THAT(up.out, Contains("daemon started"));
  CHECK_THAT(up.err, Contains("bad#0 could not be started: '/nonexistent/arbor-app': No such file"));
  CHECK(up.err.find("ok#0") == std::string::npos);

  std::ofstream(d.file("a.toml")) << "[ok]\nargs = " << sleep
                                  << "\n[bad]\ncommand = \"/nonexistent/arbor-app\"\n"
                                  << "[worse]\ncommand = \"sleep 1\"\ncwd = \"/nonexistent\"\n";
  auto apply = run_arbor({"apply"}, home);
  CHECK(apply.rc == 1);
  CHECK_THAT(apply.err, Contains("worse#0 could not be started: cwd '/nonexistent'"));
  CHECK(apply.err.find("bad#0") == std::string::npos); // not started by this apply
  CHECK(run_arbor({"down"}, home).rc == 0);
}
