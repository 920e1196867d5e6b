#pragma once

// What to do when an instance's process ends: restart now, restart after a
// delay, stay down, or give up. Pure: no clock, no actor; the caller passes
// the facts of the run that ended. One tracker per instance.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "arbor/spec.hpp"
#include "policy/backoff.hpp"

namespace arbor {

/// How one run ended.
struct run_facts {
  bool signaled = false;                 ///< killed by a signal
  int code = 0;                          ///< exit code, or signal number
  std::chrono::milliseconds uptime{0};   ///< how long the run lasted
};

struct restart_decision {
  enum class verdict : uint8_t { restart, stay_down, give_up };
  verdict what = verdict::stay_down;
  std::chrono::milliseconds delay{0};    ///< for restart
  bool crash_loop = false;               ///< delay comes from the backoff
  std::string reason;                    ///< why, for logs and status
};

/// Whether a run that ended warrants a restart at all under `spec`'s restart
/// policy and stop_exit_codes; if not, `why_not` says why.
bool wants_restart(const app_spec& spec, const run_facts& run, std::string& why_not);

class restart_tracker {
public:
  /// Shares the app's spec (one per app, not one copy per instance).
  explicit restart_tracker(std::shared_ptr<const app_spec> spec);
  /// Keeps a copy of `spec`.
  explicit restart_tracker(const app_spec& spec);

  /// Records a run that ended and decides. A run of at least min_uptime is
  /// stable and resets the consecutive-short-run count; a short run counts
  /// toward max_restarts and is delayed by the backoff.
  restart_decision on_exit(const run_facts& run);

  /// Forgets the history (manual start/restart).
  void reset() { short_runs_ = 0; }

  /// Consecutive runs shorter than min_uptime, including the last one.
  uint32_t short_runs() const { return short_runs_; }
  /// Restarts decided so far.
  uint32_t restarts() const { return restarts_; }

private:
  std::shared_ptr<const app_spec> spec_; ///< never null
  backoff backoff_;
  uint32_t short_runs_ = 0;
  uint32_t restarts_ = 0;
};

} // namespace arbor
