#pragma once

// The keeper's watch over its daemons, so that a daemon that dies is
// replaced. A daemon that says hello with its command (how to start it
// again: `arbor up`'s daemons send one, `arbor run` and embedders do not)
// is watched through a pidfd; so is every daemon the keeper starts. When a
// watched process exits, the keeper server asks for a replacement, which
// this class starts as `arbor up` does (own session, stdin /dev/null,
// output appended to <home>/daemon.log), unless:
// - another daemon holds <home>/arbor.lock (a user's `arbor up` came first:
//   that one takes over), or
// - `limit` deaths fell within `period`: a daemon that keeps dying right
//   after its start is not started forever (`arbor up` starts one by hand).
// Single-threaded: the keeper's loop only.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace arbor::keeper::detail {

/// How to start a daemon: argv[0] is the executable; env as "K=V".
struct daemon_command {
  std::vector<std::string> argv;
  std::vector<std::string> env;
};

/// A daemon process being watched.
struct watched_daemon {
  pid_t pid = 0;
  int pidfd = -1;
  daemon_command command;
  bool replacement = false;      ///< the keeper started it in place of a daemon that died
  bool replace_on_exit = false;  ///< said hello with its command, or is a replacement
};

class daemon_watch {
public:
  using clock = std::chrono::steady_clock;

  daemon_watch(std::string home, size_t limit, std::chrono::milliseconds period);
  ~daemon_watch();
  daemon_watch(const daemon_watch&) = delete;
  daemon_watch& operator=(const daemon_watch&) = delete;

  /// `pid` said hello with `command`: watches it (if not yet), its pidfd
  /// added to `epfd` tagged `tag_base | serial`, and replaces it when it
  /// exits. Returns whether the keeper started it in place of a dead one.
  bool watch(int epfd, uint64_t tag_base, pid_t pid, daemon_command command);

  /// Starts a daemon with `command` as our child (`arbor up`), unless
  /// another daemon holds the lock. It is replaced if it dies only once it
  /// said hello (a daemon that cannot start is not started again). Returns
  /// its pid, or 0 with `error`.
  pid_t start(int epfd, uint64_t tag_base, const daemon_command& command, std::string& error);

  /// Replaces `pid`'s command if it is watched (never starts a watch).
  void set_command(pid_t pid, const daemon_command& command);

  /// The process tagged `tag` exited: forgets it (the keeper's reaper reaps
  /// its children). False for an unknown tag.
  bool exited(uint64_t tag, watched_daemon& out);

  /// Starts a daemon with `command` in place of `dead` (pid, for the log),
  /// unless the lock is held or the limit is reached (both said in the log).
  /// Returns its pid, or 0.
  pid_t replace(int epfd, uint64_t tag_base, const daemon_command& command, pid_t dead);

  /// Processes being watched.
  size_t size() const { return by_tag_.size(); }

private:
  /// Spawns `command` and watches it as our child; 0 with `error`.
  pid_t launch(int epfd, uint64_t tag_base, const daemon_command& command, std::string& error);
  watched_daemon* find(pid_t pid);

  std::string home_;
  size_t limit_;
  std::chrono::milliseconds period_;
  std::deque<clock::time_point> deaths_;
  std::map<uint64_t, watched_daemon> by_tag_;
  uint64_t next_serial_ = 1;
};

} // namespace arbor::keeper::detail
