// Out-of-line parts of arbor/spec.hpp.

#include "arbor/spec.hpp"

#include <tuple>

namespace arbor {

const char* to_string(restart_policy p) {
  switch (p) {
  case restart_policy::on_failure: return "on_failure";
  case restart_policy::always: return "always";
  case restart_policy::never: return "never";
  }
  return "?";
}

const char* to_string(strategy_kind s) {
  switch (s) {
  case strategy_kind::one_for_one: return "one_for_one";
  case strategy_kind::one_for_all: return "one_for_all";
  case strategy_kind::rest_for_one: return "rest_for_one";
  }
  return "?";
}

namespace {

/// Every field but `where`; keep in sync with app_spec.
auto run_fields(const app_spec& a) {
  return std::tie(a.name, a.command, a.argv, a.shell, a.cwd, a.env, a.env_file, a.instances,
                  a.restart, a.stop_exit_codes, a.max_restarts, a.min_uptime, a.restart_delay,
                  a.backoff_base, a.backoff_max, a.kill_signal, a.kill_timeout, a.max_memory,
                  a.cron_restart, a.cron_tz, a.health, a.ready, a.port, a.depends_on, a.log);
}

} // namespace

bool app_spec::same_run_spec(const app_spec& o) const {
  return run_fields(*this) == run_fields(o);
}

} // namespace arbor
