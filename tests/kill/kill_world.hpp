#pragma once

// What the kill harness sees of a home without asking arbor: the live
// processes that carry the home's marker in their environment
// (ARBOR_HOME=<home>, and for an app's processes ARBOR_APP and
// ARBOR_INSTANCE), and the daemon it SIGKILLs.

#include <chrono>
#include <string>
#include <vector>

namespace arbor::test::kill {

using ms = std::chrono::milliseconds;

/// One live (non-zombie) process of the home.
struct marked_process {
  int pid = 0;
  int ppid = 0;       ///< 1 (or a subreaper) once the daemon that spawned it died
  std::string app;    ///< ARBOR_APP; "" for the daemon, the keeper, a CLI, a spawn not yet exec'd
  int index = -1;     ///< ARBOR_INSTANCE; -1 without
  std::string cmdline; ///< arguments joined by spaces
  unsigned long long start = 0; ///< /proc start time: the same pid later is another process
};

/// True if `p` is still alive, the same process (a scan reads one process
/// after another: in a crash storm one may die and its successor start
/// between two reads, which is no double).
bool still_alive(const marked_process& p);

/// "pid 123 (ppid 99) [web#0] /path/child sleep" for a report.
std::string describe(const marked_process& p);

struct home_processes {
  std::vector<marked_process> apps;   ///< with ARBOR_APP
  std::vector<marked_process> others; ///< the rest: daemon, keeper, CLIs
  size_t count() const { return apps.size() + others.size(); }
};

/// Scans /proc for every live process whose environment holds
/// ARBOR_HOME=<home> (zombies have an empty environment and are not live).
home_processes scan_home(const std::string& home);

/// SIGKILLs the daemon named by <home>/arbor.pid (through a pidfd, only if
/// that pid is an arbor-daemon of this home) and waits until it is gone.
/// Returns its pid, or 0 when no daemon of the home ran.
int kill_daemon(const std::string& home);

/// SIGKILLs every process of the home (after a violation: a fresh start).
void kill_everything(const std::string& home);

} // namespace arbor::test::kill
