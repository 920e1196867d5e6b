#pragma once

// Fault-injection helpers: a real daemon in a temporary home whose apps carry
// a marker in their environment (so what they leave behind can be found by
// scanning /proc, whatever pids were reused meanwhile), and small /proc
// readers.

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/cli_util.hpp"
#include "../core/harness.hpp"

namespace arbor::test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

void write_file(const std::string& path, const std::string& text);

/// Polls `pred` every 10 ms until it holds or `timeout` passes. For state
/// owned by another process (files, /proc, the daemon): nothing to wait on.
bool wait_until(const std::function<bool()>& pred, ms timeout = 10s);

/// Pids of live (non-zombie) processes whose environment holds
/// FAULT_MARK=<marker>.
std::vector<int> marked_processes(const std::string& marker);

/// Pids of zombie children of `ppid`.
std::vector<int> zombie_children(int ppid);

/// Resident set size of `pid` in KiB (0 if gone).
long rss_kib(int pid);

/// The descriptor numbers `pid` has open.
std::set<int> open_fds(int pid);

/// A process runs: state `running`, or `ready` (no readiness check, or it passed).
inline bool is_up(const nlohmann::json& state) {
  return state == "running" || state == "ready";
}

/// One line of daemon.log that is an event: `event=WHAT ... offender=ID pid=P`.
struct logged_event {
  std::string what, offender;
  int pid = 0;
};
std::vector<logged_event> logged_events(const std::string& daemon_log);

/// A real daemon (`arbor up`) in its own temporary home. Apps get
/// `env = { FAULT_MARK = "<marker>" }` from app_env(). The destructor stops a
/// daemon left running (daemon_guard), then SIGKILLs every marked process
/// still alive, by pid.
class fault_daemon {
public:
  fault_daemon();
  ~fault_daemon();

  /// `env = { FAULT_MARK = "..." }` plus a newline, for each app table.
  std::string app_env() const;
  /// Writes the config and runs `arbor up`; REQUIREs success; reads the pid.
  void up(const std::string& toml);
  /// `arbor ARGS...` against this home.
  cli_result cli(const std::vector<std::string>& args, ms timeout = 60s) const;
  /// `arbor ARGS... --json`, REQUIREd to succeed.
  nlohmann::json json(const std::vector<std::string>& args) const;
  /// The instance `id` from `status --json` (null if absent).
  nlohmann::json instance(const std::string& id) const;
  /// Runs `arbor down` (killed after `timeout`), checks the daemon and every
  /// marked process are gone.
  void down_and_check_clean(ms timeout = 30s);

  std::string file(const std::string& name) const { return dir_.file(name); }

  temp_dir dir_;
  std::string home, cfg, marker;
  int pid = 0;

private:
  struct leftovers {
    std::string marker;
    ~leftovers();
  } leftovers_;
  daemon_guard guard_; // declared last: it runs first
};

} // namespace arbor::test
