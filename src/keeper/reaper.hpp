#pragma once

// The keeper as a child subreaper. `arbor up` has the keeper start the
// daemon, so every daemon descends from the keeper: when one dies, the apps
// it started become the keeper's children. The keeper reaps every child
// that exits (SIGCHLD on a signalfd, waitid(P_ALL)) — no zombie is left for
// an init that may never reap — and keeps each exit status, keyed by pid
// and start time, until the next daemon, which re-adopted that app, asks
// for it: an adopted run's exit code is then known, as a child's is. Reaps
// are not logged: an adopted app that keeps double-forking would grow
// keeper.log without bound.
// Single-threaded: the keeper's loop only.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include <sys/types.h>

namespace arbor::keeper::detail {

/// How a child ended.
struct child_exit {
  bool signaled = false;
  bool core_dumped = false;
  int code = 0;                ///< exit code, or the signal number
};

class child_reaper {
public:
  child_reaper() = default;
  ~child_reaper();
  child_reaper(const child_reaper&) = delete;
  child_reaper& operator=(const child_reaper&) = delete;

  /// Becomes a child subreaper and blocks SIGCHLD into a signalfd (call
  /// before any thread exists). Returns the descriptor to poll, or -1 (then
  /// nothing is reaped: the keeper still holds pipes and replaces daemons).
  int open();

  /// Reads the signalfd (if open) and reaps every child that exited.
  void reap();

  /// The status of the child `pid` that started at `start` (/proc ticks
  /// since boot; 0: any), reaping first; forgotten once taken.
  std::optional<child_exit> take(pid_t pid, uint64_t start);

  /// Statuses kept, at most `keep` (the oldest go first).
  static constexpr size_t keep = 4096;

private:
  int fd_ = -1;
  std::map<pid_t, std::pair<uint64_t, child_exit>> statuses_; // pid -> start, status
  std::deque<pid_t> order_;
};

} // namespace arbor::keeper::detail
