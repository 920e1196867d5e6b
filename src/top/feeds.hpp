#pragma once

// What reaches `arbor top` from outside its loop, each on its own thread so
// the loop never blocks: the event stream (as `arbor events -f`), the log
// files of the selection (as `arbor logs -f`), and actions, which the daemon
// answers only once done (a stop waits out kill_timeout). Each thread puts
// what it gets in the inbox and wakes the loop through a pipe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "top/controller.hpp"
#include "top/log_view.hpp"

namespace arbor::logs {
class log_follower;
}

namespace arbor::top {

/// Shared by the loop and the feeds; lives as long as the process (threads
/// blocked on the daemon are never joined: the session exits the process).
struct inbox {
  explicit inbox(int wake_fd) : wake_fd_(wake_fd) {}
  /// Taken by the loop, then emptied.
  struct batch {
    std::vector<nlohmann::json> events;
    std::vector<log_line> logs;
    std::vector<std::string> messages; ///< results of actions, errors of feeds
    bool changed = false;              ///< an action finished: fetch the tree again
  };
  void add_event(nlohmann::json ev);
  void add_log(uint64_t generation, log_line line);
  void add_message(std::string text, bool changed);
  /// What arrived; log lines only of `generation` (older followers' lines are stale).
  batch take(uint64_t generation);

private:
  void wake();
  std::mutex mu_;
  batch pending_;
  std::vector<std::pair<uint64_t, log_line>> logs_;
  int wake_fd_;
};

/// Follows the event stream on a thread, reconnecting when the daemon comes back.
void start_event_feed(const std::string& socket, std::shared_ptr<inbox> box);

/// Sends `r` on a thread of its own; its result (or error) becomes a message.
void start_action(const std::string& socket, request r, std::shared_ptr<inbox> box);

/// The log files of one target (an app, a group, "" for all), followed on a
/// thread from their last lines on.
class log_feed {
public:
  log_feed();
  ~log_feed();
  /// Stops the previous target's follower and follows `files` (the `logs`
  /// result) instead; lines go to the inbox under generation().
  void follow(const std::string& target, const nlohmann::json& files, std::shared_ptr<inbox> box);
  void stop();
  const std::string& target() const { return target_; }
  uint64_t generation() const { return generation_; }

private:
  std::unique_ptr<logs::log_follower> follower_;
  std::thread thread_;
  std::string target_;
  uint64_t generation_ = 0;
};

} // namespace arbor::top
