#pragma once

// The daemon's side of the keeper (see keeper.hpp for what the keeper does;
// connecting and starting it: keeper_connect.cpp).
//
//   keeper_client k;
//   auto handed = k.start(home, keeper_binary, error);   // spawns it if needed
//   for (auto& s : *handed) ...   // pipes that outlived the previous daemon: yours now
//   k.hold("web.api#0.out", read_fd, "/l/web.api.out.log", "web.api#0 | ", "", error,
//          {10 << 20, 5});                             // rotated as the pump rotates it
//   k.release("web.api#0.out", error);                   // when that pipe is closed
//   k.bye(error);                                        // clean stop: the keeper exits
//
// Thread-safe: one mutex serializes the calls (hold/release only send one
// small message; hello and bye wait for the keeper's answer, bounded by a
// 5 s receive timeout). Never throws: every failure is a false/nullopt with
// `error` set. If the keeper is gone, calls fail cleanly (EPIPE) and
// connected() turns false: reconnect with start().

#include "keeper/reaper.hpp"
#include "logs/rotating_file.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace arbor::keeper {

/// A pipe the keeper held across a daemon's absence, handed to the new one.
struct handed_stream {
  std::string id;            ///< as given to hold()
  int fd = -1;               ///< the read end (close-on-exec, non-blocking); the caller owns it
  std::string path;          ///< the log file it was drained to
  std::string prefix;
  std::string date_format;
  uint64_t drained = 0;      ///< bytes the keeper read from it during the last outage
  uint64_t dropped = 0;      ///< of those, bytes it could not write (write errors)
};

/// A listening socket the keeper held across a daemon's absence.
struct handed_socket {
  std::string id;            ///< as given to hold_socket()
  int fd = -1;               ///< close-on-exec; the caller owns it
};

/// What the keeper said of the daemon before this one, in its hello answer.
struct hello_news {
  int32_t lost_pid = 0;            ///< a daemon that died without bye since the last hello; 0: none
  bool started_by_keeper = false;  ///< the keeper started this process in its place
};

class keeper_client {
public:
  keeper_client() = default;
  /// Closes the connection without bye: the keeper takes that as the
  /// daemon's death and starts draining.
  ~keeper_client();
  keeper_client(const keeper_client&) = delete;
  keeper_client& operator=(const keeper_client&) = delete;

  /// Connects to <home>/keeper.sock. False with `error` if nothing listens.
  bool connect(const std::string& home, std::string& error);

  /// Connects; if nothing listens, runs `keeper_binary [args...] home` (it
  /// detaches into its own session and returns once it listens) and connects
  /// again, retrying (e.g. while an old keeper is exiting) until `timeout`.
  bool connect_or_spawn(const std::string& home, const std::string& keeper_binary,
                        std::string& error,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5),
                        const std::vector<std::string>& args = {});

  /// Says hello as this process: the keeper stops draining and answers with
  /// every stream it holds (it keeps its own copies: they stay held until
  /// release()). The returned descriptors belong to the caller. On failure
  /// the connection is closed.
  std::optional<std::vector<handed_stream>> hello(std::string& error);

  /// connect_or_spawn() then hello(); once more if the keeper closed the
  /// connection at once (it was exiting just then).
  std::optional<std::vector<handed_stream>> start(
    const std::string& home, const std::string& keeper_binary, std::string& error,
    std::chrono::milliseconds timeout = std::chrono::seconds(5),
    const std::vector<std::string>& args = {});

  /// Gives the keeper a copy of `fd` (a pipe's read end; the caller keeps
  /// its own) to drain into `path` as `<date ><prefix>line` if this daemon
  /// dies. `date_format`: strftime format, "" for no date. Replaces a stream
  /// with the same id. Fails on a descriptor that is not a pipe, on fields
  /// that are too long (path > 4096, prefix > 1024, date_format > 128), or if
  /// not connected. `rotate`: how the daemon's pump rotates `path`; the keeper
  /// rotates it the same way (default: never).
  bool hold(const std::string& id, int fd, const std::string& path, const std::string& prefix,
            const std::string& date_format, std::string& error,
            const logs::rotation& rotate = {});

  /// The keeper closes its copy. Releasing an unknown id is no error.
  bool release(const std::string& id, std::string& error);

  /// Gives the keeper a copy of listening socket `fd` (the caller keeps its
  /// own), kept open, never read, until release_socket() or bye, and handed
  /// back at every hello (take_sockets()). Replaces one with the same id.
  bool hold_socket(const std::string& id, int fd, std::string& error);
  bool release_socket(const std::string& id, std::string& error);
  /// The sockets the last hello's answer handed back; the caller owns them.
  std::vector<handed_socket> take_sockets();

  /// Clean stop: the keeper closes everything and exits. Waits for its answer
  /// (or the end of the connection), then closes the connection.
  bool bye(std::string& error);

  /// The log pump's write ledger (page memfd, trash read end; see
  /// logs/write_ledger.hpp), sent with every hello: if this daemon dies the
  /// keeper finishes or undoes its last log write. The caller keeps them.
  void set_ledger(int page_fd, int trash_fd);

  /// How the keeper starts this daemon again if it dies without bye (argv[0]
  /// the executable, env "K=V"), sent with every hello. Empty argv (the
  /// default): it is never replaced (`arbor run`, an embedder).
  void set_command(std::vector<std::string> argv, std::vector<std::string> env);
  /// set_command, and tells the keeper now (the daemon runs another file
  /// after an apply): a death from here on is replaced by this command.
  bool update_command(std::vector<std::string> argv, std::vector<std::string> env,
                      std::string& error);

  /// `arbor up`: has the keeper start a daemon (`argv`, environment `env`)
  /// as its child, so that the apps are the keeper's if the daemon dies.
  /// Needs no hello. Returns its pid, or 0 with `error` (the keeper's
  /// reason, e.g. another daemon holds the lock).
  pid_t start_daemon(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     std::string& error);

  /// How an app that outlived its daemon (re-adopted: not our child) ended,
  /// if the keeper reaped it: `pid`, started at `start` (/proc ticks; 0:
  /// any). nullopt if the keeper does not know it, or with `error` if it
  /// did not answer within `wait` (a late answer is skipped by later reads).
  std::optional<detail::child_exit> exit_status(
    pid_t pid, uint64_t start, std::string& error,
    std::chrono::milliseconds wait = std::chrono::milliseconds(250));

  /// What the last hello's answer said.
  hello_news news() const;

  bool connected() const;
  /// The keeper's pid (SO_PEERCRED at connect); 0 when not connected.
  pid_t keeper_pid() const;
  /// Closes the connection without bye.
  void close();

private:
  bool connect_locked(const std::string& home, std::string& error);
  bool send_locked(const std::string& text, const int* fds, size_t nfds, std::string& error);
  void close_locked();

  mutable std::mutex mtx_;
  int fd_ = -1;
  pid_t keeper_pid_ = 0;
  int ledger_[2] = {-1, -1};
  std::vector<std::string> command_argv_;
  std::vector<std::string> command_env_;
  hello_news news_;
  std::vector<handed_socket> sockets_;  ///< from the last hello, until taken
};

} // namespace arbor::keeper
