// The randomized kill harness: during each operation a daemon can be busy
// with, SIGKILL it at a random point, run `arbor up`, and check by the
// environment marker (not by arbor's own view) that every app runs exactly
// its instances, no line was lost or doubled, and after `down` nothing of
// the home is alive. ctest runs a few trials per scenario;
// bench/kill_harness.sh runs hundreds (KILL_TRIALS, KILL_SEED: kill_run.hpp).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../core/cli_util.hpp"
#include "kill_run.hpp"

using namespace arbor::test;
using namespace arbor::test::kill;

namespace {

constexpr int ctest_trials = 3;

std::string write_config(const kill_run& run, const std::string& name, const std::string& toml) {
  auto path = run.file(name);
  std::ofstream(path) << toml;
  return path;
}

/// Fails the test case on any violation, each of them in the message.
void check_none(const std::vector<std::string>& violations) {
  std::string all;
  for (auto& v : violations) all += v + "\n";
  INFO(all);
  CHECK(violations.empty());
}

} // namespace

TEST_CASE("kill harness: a crash storm of 50 instances, the daemon SIGKILLed at random points",
          "[kill][storm]") {
  kill_run run{"storm", kill_settings::from_env(ctest_trials)};
  // burst: every run lasts 0-50 ms. linger: one run in four lasts 3 s, so a
  // process spawned just before the kill outlives the next daemon's start,
  // where a second one for its index would show.
  auto storm = [](const std::string& name, int n, const std::string& longest) {
    return "[" + name + "]\nargs = " + child_args({"storm", "50", longest}) + "\ninstances = "
           + std::to_string(n) + "\nrestart = \"always\"\nmin_uptime = 0\n";
  };
  auto cfg = write_config(run, "storm.toml", storm("burst", 20, "50") + storm("linger", 30, "3000")
                                               + "[calm]\nargs = " + child_args({"sleep"}) + "\n");
  expected_apps want{{{"calm", 1}}, {{"burst", 20}, {"linger", 30}}, {}};
  auto violations = run.run(cfg, [&](int k, std::mt19937_64& rng) {
    auto delay = kill_run::draw(rng, ms{1000});
    run.begin(k, "storm", delay);
    run.kill_during({}, delay);
    if (!run.up(cfg)) return;
    // From `up` on, strictly: at most one live process per index, none
    // outside the configured ones (no settling: nothing legitimate doubles).
    if (run.watch(want, ms{1500})) run.settle(want);
  });
  check_none(violations);
}

TEST_CASE("kill harness: a rolling reload of 3 instances, the daemon SIGKILLed at random points",
          "[kill][reload]") {
  kill_run run{"reload", kill_settings::from_env(ctest_trials)};
  // Ready after min_uptime: a reload of 3 takes ~3 x 150 ms.
  auto cfg = write_config(run, "reload.toml",
                          "[r]\nargs = " + child_args({"sleep"})
                            + "\ninstances = 3\nmin_uptime = 150\n");
  auto violations = run.run(cfg, [&](int k, std::mt19937_64& rng) {
    auto delay = kill_run::draw(rng, ms{800});
    run.begin(k, "reload r", delay);
    run.kill_during({"reload", "r"}, delay);
    if (run.up(cfg)) run.settle({{{"r", 3}}, {}, {}});
  });
  check_none(violations);
}

TEST_CASE("kill harness: an aborted reload (the replacement exits before it is ready), the daemon "
          "SIGKILLed at random points",
          "[kill][reload-aborted]") {
  kill_run run{"reload-aborted", kill_settings::from_env(ctest_trials)};
  // While the flag file exists a new run exits after 100 ms, short of its
  // readiness at min_uptime 200 ms: the reload aborts at ra#0.
  auto flag = run.file("replacements-fail");
  auto cfg = write_config(run, "reload-aborted.toml",
                          "[ra]\nshell = true\ncommand = \"test -e " + flag + " && exec "
                            + ARBOR_TEST_CHILD + " run-for 100 3; exec " + ARBOR_TEST_CHILD
                            + " sleep\"\ninstances = 3\nmin_uptime = 200\n");
  auto violations = run.run(cfg, [&](int k, std::mt19937_64& rng) {
    auto delay = kill_run::draw(rng, ms{300});
    run.begin(k, "aborted reload ra", delay);
    std::ofstream{flag} << "x";
    run.kill_during({"reload", "ra"}, delay);
    std::filesystem::remove(flag);
    if (run.up(cfg)) run.settle({{{"ra", 3}}, {}, {}});
  });
  check_none(violations);
}

TEST_CASE("kill harness: scale up and down between 1 and 20, the daemon SIGKILLed at random points",
          "[kill][scale]") {
  kill_run run{"scale", kill_settings::from_env(ctest_trials)};
  const int configured = 4;
  auto cfg = write_config(run, "scale.toml", "[s]\nargs = " + child_args({"sleep"})
                                               + "\ninstances = " + std::to_string(configured)
                                               + "\n");
  // The instances arbor runs of `s` (-1: status failed, a violation).
  auto count = [&] {
    auto st = run_arbor({"status", "--json"}, run.home());
    auto j = nlohmann::json::parse(st.out, nullptr, false);
    if (st.rc != 0 || !j.is_object()) {
      run.violation({"status failed: exit " + std::to_string(st.rc) + ": " + st.err});
      return -1;
    }
    return static_cast<int>(j.value("instances", nlohmann::json::array()).size());
  };
  auto violations = run.run(cfg, [&](int k, std::mt19937_64& rng) {
    int target = std::uniform_int_distribution<int>{1, 20}(rng);
    auto delay = kill_run::draw(rng, ms{400});
    run.begin(k, "scale s", delay);
    int before = count();
    run.begin(k, "scale s " + std::to_string(before) + " -> " + std::to_string(target), delay);
    run.kill_during({"scale", "s", std::to_string(target)}, delay);
    if (!run.up(cfg)) return;
    // The scale happened or not; `up` on a daemon the keeper started may
    // also apply the file's count.
    int now = count();
    if (now < 0) return;
    if (now != before && now != target && now != configured)
      run.violation({"scale count: arbor runs " + std::to_string(now) + " instances"});
    run.settle({{{"s", now}}, {}, {}});
  });
  check_none(violations);
}

TEST_CASE("kill harness: apply that adds, removes and changes apps, the daemon SIGKILLed at random "
          "points",
          "[kill][apply]") {
  kill_run run{"apply", kill_settings::from_env(ctest_trials)};
  // A: keep, gone, chg, rel (sleep 86400000); B: keep, new, chg, rel (sleep 86400001).
  // Even trials apply B over A, odd ones A over B; `up` then runs the target.
  auto app = [](const std::string& name, int n, const std::string& arg) {
    return "[" + name + "]\nargs = " + child_args({"sleep", arg}) + "\ninstances = "
           + std::to_string(n) + "\n";
  };
  // rel has readiness (an exec check): a change to it is a rolling reload.
  auto rel = [&app](const std::string& arg) {
    return app("rel", 2, arg)
           + "[rel.health_check]\nexec = \"true\"\ninterval_secs = \"50ms\"\n";
  };
  auto cfg_a = write_config(run, "a.toml", app("keep", 2, "86400000") + app("gone", 2, "86400000")
                                             + app("chg", 1, "86400000") + rel("86400000"));
  auto cfg_b = write_config(run, "b.toml", app("keep", 2, "86400000") + app("new", 2, "86400000")
                                             + app("chg", 1, "86400001") + rel("86400001"));
  expected_apps want_a{{{"keep", 2}, {"gone", 2}, {"chg", 1}, {"rel", 2}},
                       {},
                       {{"chg", "86400000"}, {"rel", "86400000"}}};
  expected_apps want_b{{{"keep", 2}, {"new", 2}, {"chg", 1}, {"rel", 2}},
                       {},
                       {{"chg", "86400001"}, {"rel", "86400001"}}};
  auto first = run.settings().first_trial % 2 == 0 ? cfg_a : cfg_b;
  auto violations = run.run(first, [&](int k, std::mt19937_64& rng) {
    auto delay = kill_run::draw(rng, ms{600});
    bool to_b = k % 2 == 0;
    auto& target = to_b ? cfg_b : cfg_a;
    run.begin(k, to_b ? "apply a -> b" : "apply b -> a", delay);
    run.kill_during({"apply", target}, delay);
    if (run.up(target)) run.settle(to_b ? want_b : want_a);
  });
  check_none(violations);
}

TEST_CASE("kill harness: a log flood with rotation, the daemon SIGKILLed at random points: no "
          "line lost or doubled",
          "[kill][flood]") {
  kill_run run{"flood", kill_settings::from_env(ctest_trials)};
  // 2 x 20,000 numbered lines/s; files rotate every 64 KiB (~every 0.1 s).
  auto cfg = write_config(run, "flood.toml",
                          "[flood]\nargs = " + child_args({"numbered", "20", "1000"})
                            + "\ninstances = 2\nlog_max_size = \"64K\"\nlog_max_files = 1000\n");
  expected_apps want{{{"flood", 2}}, {}, {}};
  size_t lines = 0, rotated = 0;
  auto violations = run.run(cfg, [&](int k, std::mt19937_64& rng) {
    auto delay = kill_run::draw(rng, ms{1000});
    run.begin(k, "flood", delay);
    run.kill_during({}, delay);
    if (!run.up(cfg) || !run.settle(want)) return;
    auto logs = run.home() + "/logs";
    std::vector<int> pids;
    for (auto& p : scan_home(run.home()).apps) pids.push_back(p.pid);
    // A run rotates before it is stopped (a short one on a loaded machine
    // would not reach 64 KiB): the lines are checked across a rotation.
    eventually([&] {
      std::error_code ec;
      for (auto& f : std::filesystem::directory_iterator(logs, ec))
        if (f.path().filename().string().rfind("flood.out.log.", 0) == 0) return true;
      return false;
    }, ms{10000});
    // Stopped, each writes its END line; then the files hold every line.
    auto stop = run_arbor({"stop", "flood"}, run.home());
    if (stop.rc != 0) run.violation({"stop failed: " + stop.err});
    eventually([&] {
      auto ended = ended_pids(logs, "flood");
      return std::all_of(pids.begin(), pids.end(), [&](int p) {
        return std::find(ended.begin(), ended.end(), p) != ended.end();
      });
    }, ms{10000});
    run.violation(line_problems(logs, "flood", pids, lines));
    std::error_code ec;
    for (auto& f : std::filesystem::directory_iterator(logs, ec))
      rotated += f.path().filename().string().rfind("flood.out.log.", 0) == 0;
    // A fresh start for the next trial: its kill lands 0-1000 ms into it.
    if (run_arbor({"flush", "flood"}, run.home()).rc != 0
        || run_arbor({"start", "flood"}, run.home()).rc != 0)
      run.violation({"flush or start failed"});
  });
  std::printf("kill-harness scenario=flood numbered lines checked=%zu rotated files=%zu\n", lines,
              rotated);
  check_none(violations);
  CHECK(lines > 0);
  CHECK(rotated > 0); // rotation happened during the runs
}
