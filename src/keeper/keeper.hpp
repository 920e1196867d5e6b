#pragma once

// arbor-keeper's server: one per ARBOR_HOME. It holds a copy of the read end
// of every app output pipe the daemon gives it, so that when the daemon dies
// the apps neither get SIGPIPE nor block on a full pipe: it drains the pipes
// into the log files until a new daemon says hello, then hands every pipe
// over (see wire.hpp for the messages).
//
// Rules:
// - While a daemon is connected the keeper never reads the pipes.
// - A daemon's connection that ends without bye (it died) starts draining,
//   after finishing or undoing the daemon's last log write by its ledger.
// - A daemon that sent its command with hello is replaced when its process
//   exits without bye: the keeper starts it again (daemon_watch.hpp), and
//   the new daemon re-adopts the apps and takes the pipes back.
// - hello (from a new connection; an older daemon connection is closed, the
//   newest daemon wins) stops draining: partial lines are written, files
//   closed, then every stream is sent with its descriptor. The keeper keeps
//   its copies: a stream stays held until release (or end of stream while
//   draining), and a hold with the same id replaces it.
// - Listening sockets (hold_socket) are never read: held until
//   release_socket or bye, handed back with the streams at every hello.
// - `arbor up` has the keeper start the daemon (start): every daemon then
//   descends from the keeper, a child subreaper, which reaps whatever of
//   theirs is orphaned and keeps the exit statuses of apps whose daemon died
//   for the next daemon (exit_status; reaper.hpp).
// - bye: answer, close everything, exit 0.
// - No daemon connected or being started and nothing held: exit 0 (at
//   startup only after `startup_grace` without a hello).

#include "keeper/daemon_watch.hpp"
#include "keeper/reaper.hpp"
#include "keeper/socket_holds.hpp"
#include "keeper/streams.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace arbor::keeper {

struct keeper_options {
  std::string home;                              ///< the ARBOR_HOME (must exist)
  std::chrono::milliseconds idle_flush{500};     ///< a partial line is written after this
  std::chrono::milliseconds startup_grace{10000};///< exit if no daemon says hello by then
  size_t replace_limit = 5;                      ///< daemon deaths within replace_period
  std::chrono::milliseconds replace_period{60000};///< ... after which none is started
};

/// Exit codes of arbor-keeper.
enum : int { keeper_exit_ok = 0, keeper_exit_error = 1, keeper_exit_busy = 3 };

class keeper_server {
public:
  explicit keeper_server(keeper_options opts);
  ~keeper_server();
  keeper_server(const keeper_server&) = delete;
  keeper_server& operator=(const keeper_server&) = delete;

  /// Locks <home>/keeper.lock (flock) and listens on <home>/keeper.sock
  /// (mode 0600). Returns keeper_exit_ok, keeper_exit_busy if another keeper
  /// holds the lock, or keeper_exit_error with `error` set.
  int open(std::string& error);

  /// Serves until bye, or until there is nothing left to keep. Returns the
  /// exit code. Removes the socket file before returning.
  int run();

private:
  // epoll tags: connection ids, then daemon watches, then drained streams.
  static constexpr uint64_t listen_tag = 0;
  static constexpr uint64_t reap_tag = uint64_t{1} << 46;         // connection ids stay below
  static constexpr uint64_t watch_tag_base = uint64_t{1} << 47;  // connection ids stay below
  static constexpr uint64_t stream_tag_base = uint64_t{1} << 48; // daemon watches stay below

  struct connection {
    int fd = -1;
    bool daemon = false;       // said hello
    int32_t pid = 0;           // from hello
    int ledger_page = -1;      // from hello: the pump's write ledger (logs/write_ledger.hpp)
    int ledger_trash = -1;
    bool has_command = false;  // from hello: it is replaced when it dies
    detail::daemon_command command; // from a later "command" (an apply): the one to replace it with
  };

  void accept_all();
  void on_message(uint64_t id);
  void handle(uint64_t id, const std::string& text, std::vector<int>& fds);
  void on_hello(uint64_t id, int32_t pid, const nlohmann::json& msg);
  /// start (`arbor up`) and exit_status: answered on `fd`, hello or not.
  void on_request(int fd, const std::string& op, const nlohmann::json& msg);
  void on_daemon_exit(uint64_t tag);
  void take_pending(uint64_t id);
  bool send_streams(connection& c, bool replacement);
  void drop(uint64_t id, const char* why);
  void recover_ledger(connection& c);
  bool should_exit(std::chrono::steady_clock::time_point now) const;

  keeper_options opts_;
  int lock_fd_ = -1;
  int listen_fd_ = -1;
  int epfd_ = -1;
  std::map<uint64_t, connection> conns_;
  uint64_t next_conn_ = 1;
  uint64_t daemon_conn_ = 0;   // 0: no daemon connected
  bool had_daemon_ = false;
  bool bye_ = false;
  int32_t lost_pid_ = 0;       // the last daemon that died, for the next hello's answer
  std::chrono::steady_clock::time_point started_{};
  detail::stream_table streams_;
  detail::socket_holds sockets_;
  detail::daemon_watch daemons_;
  detail::child_reaper reaper_;
};

} // namespace arbor::keeper
