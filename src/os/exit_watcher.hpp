#pragma once

// One thread that learns of child exits without polling: a pidfd per child in
// an epoll set, reaped with waitid(P_PIDFD). Never waitid(P_ALL).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <sys/types.h>

namespace arbor::os {

/// How a watched child ended.
struct exit_record {
  pid_t pid = 0;
  bool signaled = false;   ///< killed by a signal (then `code` is the signal)
  bool core_dumped = false;
  int code = 0;            ///< exit code, or the signal number when `signaled`
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

  /// Number of children currently watched.
  size_t watched() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::os
