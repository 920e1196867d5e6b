#pragma once

// One thread that learns of child exits without polling: a pidfd per child in
// an epoll set, reaped with waitid(P_PIDFD). Never waitid(P_ALL).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// How a watched child ended.
struct exit_record {
  pid_t pid = 0;
  bool signaled = false;   ///< killed by a signal (then `code` is the signal)
  bool core_dumped = false;
  int code = 0;            ///< exit code, or the signal number when `signaled`
  bool unknown = false;    ///< not our child (adopted): exited, status unknown (code -1)
  std::chrono::steady_clock::time_point at; ///< when the watcher reaped it
};

/// A description such as "exit(1)", "exit(0)", "signal(SIGKILL)",
/// "signal(SIGSEGV, core dumped)".
std::string describe(const exit_record& r);

class exit_watcher {
public:
  using callback = std::function<void(const exit_record&)>;

  /// Starts the watcher thread. Throws std::system_error if epoll/eventfd
  /// cannot be created (startup only).
  exit_watcher();
  /// Stops the thread. Children still watched are neither reaped nor killed.
  ~exit_watcher();
  exit_watcher(const exit_watcher&) = delete;
  exit_watcher& operator=(const exit_watcher&) = delete;

  /// Watches child `pid` (a direct child of this process). When it exits the
  /// watcher reaps it, then sends SIGKILL to its process group (-pid) so
  /// nothing it left behind survives it, then calls `on_exit` on the watcher
  /// thread (keep it short: e.g. one actor message). Works even if the child
  /// already exited (a zombie is still watchable). Returns an error if the
  /// pidfd cannot be opened (e.g. ESRCH: not our child / already reaped).
  std::error_code watch(pid_t pid, callback on_exit);

  /// Watches `pid` that is NOT our child (a process re-adopted after the
  /// daemon restarted): its exit is seen through a pidfd, but the status is
  /// lost (exit_record::unknown). Its process group is killed as usual.
  std::error_code adopt(pid_t pid, callback on_exit);

  /// How adopted orphans are reaped (see reap_adopted_orphans).
  enum class orphan_reaping { off, on_sigchld, every_second };

  /// As a child subreaper (PR_SET_CHILD_SUBREAPER), orphans of our apps
  /// become our children: reap the ones that exit (see reap_orphans for
  /// which zombies are left to their owners). Event-driven when SIGCHLD is
  /// blocked in every thread of the process (the daemon blocks it first
  /// thing in main, before any thread exists): the watcher reads SIGCHLD
  /// from a signalfd and sweeps sweep_delay after the first SIGCHLD of a
  /// burst (time for an owner blocked in waitpid to collect its own child
  /// first); nothing else in the process may consume SIGCHLD (sigwait, a
  /// signalfd). Otherwise (e.g. embedded in a program that does not block
  /// it) a sweep once a second. A second call does nothing.
  void reap_adopted_orphans();

  /// Which of the two reap_adopted_orphans chose; `off` before it is called.
  orphan_reaping orphan_mode() const;

  /// Between the first SIGCHLD of a burst and the sweep (event-driven mode).
  static constexpr std::chrono::milliseconds sweep_delay{100};

  /// Number of children currently watched.
  size_t watched() const;

  /// The pids currently watched (e.g. the roots the sampler measures).
  std::vector<pid_t> pids() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::os
