#include "policy/restart_tracker.hpp"

#include <algorithm>
#include <string>

namespace arbor {

namespace {

std::string describe(const run_facts& run) {
  return run.signaled ? "signal " + std::to_string(run.code)
                      : "exit code " + std::to_string(run.code);
}

} // namespace

bool wants_restart(const app_spec& spec, const run_facts& run, std::string& why_not) {
  const auto& codes = spec.stop_exit_codes;
  bool listed = !run.signaled && std::find(codes.begin(), codes.end(), run.code) != codes.end();
  switch (spec.restart) {
    case restart_policy::never:
      why_not = "restart=never";
      return false;
    case restart_policy::on_failure:
      if (!run.signaled && run.code == 0) {
        why_not = "exited cleanly (exit code 0, restart=on_failure)";
        return false;
      }
      break;
    case restart_policy::always:
      break;
  }
  if (listed) {
    why_not = describe(run) + " is in stop_exit_codes";
    return false;
  }
  return true;
}

restart_tracker::restart_tracker(const app_spec& spec)
  : restart_tracker(std::make_shared<const app_spec>(spec)) {}

restart_tracker::restart_tracker(std::shared_ptr<const app_spec> spec)
  : spec_(std::move(spec)), backoff_(spec_->backoff_base, spec_->backoff_max) {
}

restart_decision restart_tracker::on_exit(const run_facts& run) {
  using verdict = restart_decision::verdict;
  restart_decision d;
  bool stable = run.uptime >= spec_->min_uptime;
  short_runs_ = stable ? 0 : short_runs_ + 1;
  std::string why_not;
  if (!wants_restart(*spec_, run, why_not)) {
    d.what = verdict::stay_down;
    d.reason = std::move(why_not);
    return d;
  }
  // `sh -c` reports a command it cannot run as 126/127: retrying won't help.
  if (spec_->shell && !stable && !run.signaled && (run.code == 126 || run.code == 127)) {
    d.what = verdict::give_up;
    d.reason = run.code == 127 ? "command not found (sh exit code 127)"
                               : "command not executable (sh exit code 126)";
    return d;
  }
  if (!stable && short_runs_ > spec_->max_restarts) {
    d.what = verdict::give_up;
    d.reason = "max_restarts reached: " + std::to_string(short_runs_)
               + " consecutive runs shorter than min_uptime ("
               + std::to_string(spec_->min_uptime.count()) + "ms), last " + describe(run);
    return d;
  }
  d.what = verdict::restart;
  d.delay = spec_->restart_delay;
  if (!stable) {
    auto b = backoff_.delay(short_runs_ - 1);
    if (b > d.delay) {
      d.delay = b;
      d.crash_loop = true;
    }
  }
  d.reason = describe(run);
  ++restarts_;
  return d;
}

} // namespace arbor
