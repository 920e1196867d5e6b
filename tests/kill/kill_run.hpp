#pragma once

// One scenario of the kill harness: trials that each start an operation,
// SIGKILL the daemon at a random point, run `arbor up` and check the
// invariants (kill_checks.hpp). A trial with a violation is followed by
// `down` and a fresh home, so every trial starts from a sound tree.
//
// Environment (the bench, bench/kill_harness.sh, sets them):
//   KILL_TRIALS (default: the test's own few), KILL_SEED (default: random),
//   KILL_FIRST_TRIAL (default 0: replay one trial of a seed with
//   KILL_FIRST_TRIAL=k KILL_TRIALS=1), KILL_SETTLE_MS (default 8000),
//   KILL_DOWN_EVERY (default 25: `down` and check every K trials).

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../core/harness.hpp"
#include "kill_checks.hpp"

namespace arbor::test::kill {

struct kill_settings {
  uint64_t seed = 0;
  int trials = 3;
  int first_trial = 0;
  ms settle{8000};
  int down_every = 25;
  /// From the environment; `trials` when KILL_TRIALS is not set.
  static kill_settings from_env(int trials);
};

class kill_run {
public:
  kill_run(std::string scenario, kill_settings settings);
  ~kill_run();

  /// A path in the run's directory (configs: the same for every home).
  std::string file(const std::string& name) const { return dir_.file(name); }
  const std::string& home() const { return home_; }
  const kill_settings& settings() const { return settings_; }

  /// A delay drawn uniformly from 0..50 ms or 0..max (even odds).
  static ms draw(std::mt19937_64& rng, ms max);

  /// What the trial does, for the violation report ("scale s 4 -> 12, kill
  /// after 130 ms").
  void begin(int trial, const std::string& what, ms delay);

  /// `arbor up cfg` (a fresh daemon, or `apply` on one the keeper started);
  /// a failure is a violation.
  bool up(const std::string& cfg);
  /// Runs `arbor ARGS` beside the test (none if empty), SIGKILLs the daemon
  /// `delay` later, waits for the CLI to return. No daemon to kill is a violation.
  void kill_during(const std::vector<std::string>& args, ms delay);
  /// Polls until the processes found by marker, and arbor's view of them,
  /// match `want`; whatever still differs at the timeout is a violation.
  bool settle(const expected_apps& want);
  /// Samples the processes for `span`: every index of `want` live at most
  /// once, nothing outside it (a missing one is settle's to judge); the
  /// problems of the first sample that breaks it are a violation.
  bool watch(const expected_apps& want, ms span);
  /// `arbor down`, then nothing of the home may be alive.
  void down_and_check();

  /// Records problems of the current trial (printed at once).
  void violation(const std::vector<std::string>& problems);
  /// `arbor up first_cfg`, then `trial(k, rng(k))` for each trial, with
  /// `down` every KILL_DOWN_EVERY and a fresh home after a violation;
  /// `down` at the end. Returns the violations (already printed, with the
  /// summary line).
  std::vector<std::string> run(const std::string& first_cfg,
                               const std::function<void(int, std::mt19937_64&)>& trial);

private:
  /// The trial's random source: the same for the same seed, scenario and trial.
  std::mt19937_64 rng(int trial) const;
  void new_home();
  /// One line: trials, violations by kind, seed, time, the replay command.
  void print_summary(long long seconds) const;

  std::string scenario_;
  kill_settings settings_;
  temp_dir dir_;
  std::string home_;
  int homes_ = 0;
  std::string cfg_;        // what the last `up` ran
  int trial_ = 0;
  std::string what_;
  std::vector<std::string> violations_;
  std::vector<int> bad_trials_;
};

} // namespace arbor::test::kill
