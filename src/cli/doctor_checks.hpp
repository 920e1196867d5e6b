#pragma once

// `arbor doctor`'s verdicts: the host's facts (os/host_facts.hpp) in, one
// check per line out, each with its status and, when not ok, the fix (a
// command or a config line). Pure, so tests judge any host they describe.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/fd_budget.hpp"
#include "os/host_facts.hpp"

namespace arbor::cli {

enum class check_status {
  ok,
  degraded, ///< arbor works, with less (process groups for cgroups, a limit key refused)
  missing,  ///< a facility is absent (zoneinfo, systemd, a kernel feature)
  error,    ///< something is wrong that arbor refuses to run with
};
const char* to_string(check_status s);

struct host_check {
  std::string check;  ///< "cgroup.containment", "tcp_migrate_req", ...
  check_status status = check_status::ok;
  std::string detail;
  std::string fix;    ///< "" when ok
  /// arbor cannot run (as configured) without it: a `missing` or `error`
  /// one makes `arbor doctor` exit 1. Needed: the home, pidfd, the
  /// config's descriptors.
  bool needed = false;
};

/// The config doctor judged the descriptors of: its file and what it needs,
/// or why it did not load.
struct config_budget {
  std::string file;
  std::string load_error; ///< "" if it loaded
  config::fd_need need;
};

/// {major, minor} of a uname release ("6.1.0-18-amd64" -> {6, 1}); {0, 0}
/// if it does not start with two numbers.
std::pair<int, int> kernel_version(const std::string& release);

/// Every check, in the order they print.
std::vector<host_check> judge_host(const os::host_facts& facts,
                                   const std::optional<config_budget>& config);

/// 1 if a needed check is missing or in error, else 0.
int doctor_exit_code(const std::vector<host_check>& checks);

/// The table: one aligned line per check, "    fix: ..." below each that
/// is not ok, then a summary line.
std::string render_checks(const std::vector<host_check>& checks);

/// [{check, status, detail, fix, needed}, ...]
nlohmann::json checks_json(const std::vector<host_check>& checks);

} // namespace arbor::cli
