#pragma once

// The daemon's side of arbor-keeper (src/keeper/keeper.hpp), and its watch
// over the keeper. At startup it says hello (starting the keeper if none
// runs), with the command that starts this daemon again (the keeper
// replaces a daemon that dies); hands the pipes the keeper kept to the log
// pump; and has every new pipe held by the keeper. A thread waits on a pidfd
// of the keeper: if the keeper dies, that is logged and sent as an event
// (keeper_lost), a new keeper is started and every live pipe held by it
// again (keeper_started), so that a daemon crash after the keeper's still
// kills no app and loses no line. Used when tree_options::state_dir is set.

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "arbor/messages.hpp"
#include "keeper/keeper_client.hpp"
#include "logs/log_pump.hpp"
#include "os/exit_watcher.hpp"
#include "os/listen_registry.hpp"

namespace arbor::detail {

class keeper_link {
public:
  /// `home`: where the keeper listens; `command`: how the keeper starts this
  /// daemon again (argv; empty: never); `bus`: the event bus.
  keeper_link(std::string home, std::string keeper_binary, std::vector<std::string> command,
              caf::actor bus);
  /// Stops watching (without bye: the keeper takes this process's exit as
  /// a death unless close_clean() came first).
  ~keeper_link();
  keeper_link(const keeper_link&) = delete;
  keeper_link& operator=(const keeper_link&) = delete;

  /// Startup, once the pump knows every configured app: connects, takes the
  /// keeper's pipes back into `pump` and its listening sockets into
  /// `listeners`, sets their hooks (each new pipe and socket is held by the
  /// keeper), starts watching. Problems are logged: a daemon without a
  /// keeper still runs.
  void start(logs::log_pump& pump, os::listen_registry& listeners);

  /// Sends what startup found (a daemon replaced) to the bus: once the bus
  /// has its subscribers (the tree's start).
  void announce();

  /// How the keeper starts this daemon again from now on (the daemon runs
  /// another file or environment after an apply).
  void set_command(std::vector<std::string> command);

  /// How a re-adopted app (`pid`, started at `start`, /proc ticks) ended,
  /// if the keeper reaped it (it is the keeper's child since its daemon
  /// died); nullopt otherwise. Asks the keeper: a round trip on its socket,
  /// at most 250 ms. A keeper that did not answer is not asked again until
  /// it is replaced: a stopped keeper must not hold the actors up.
  std::optional<os::exit_record> exit_status(pid_t pid, uint64_t start);

  /// A clean stop: the keeper is told to exit, and its exit is no loss.
  void close_clean();

  /// Stops the watching thread; call before the pump goes.
  void stop_watching();

private:
  /// Whether `command` with this process's environment (into `env`) is small
  /// enough to hand the keeper; says so in the log when it is not.
  bool sized_command(const std::vector<std::string>& command, std::vector<std::string>& env) const;
  bool connect(std::string& error);
  void watch();
  void publish(event_kind what, const std::string& offender, int32_t pid,
               const std::string& reason);

  std::string home_;
  std::string keeper_binary_;
  caf::actor bus_;
  keeper::keeper_client client_;
  logs::log_pump* pump_ = nullptr;
  os::listen_registry* listeners_ = nullptr;
  std::thread thread_;
  int wake_ = -1;                     ///< eventfd: stop watching
  std::atomic<bool> closing_{false};
  std::atomic<bool> keeper_slow_{false};  ///< exit_status went unanswered
  std::optional<event> startup_news_; ///< for announce()
};

} // namespace arbor::detail
