#pragma once

// The daemon's side of the control socket: one thread, epoll, non-blocking
// connections. Requests are decoded here and handed to a callback; replies
// are queued from any thread. A slow or hostile client never blocks the
// caller of send() nor the tree.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <sys/types.h>

#include "config/fd_budget.hpp"
#include "proto/protocol.hpp"

namespace arbor::proto {

/// The control plane's limits: what one client, or many, may cost the daemon.
struct server_options {
  size_t max_line = max_request_line;      ///< longer request lines: error reply, then close
  size_t max_outbound = 8u << 20;          ///< queued reply bytes per connection before it is dropped
  mode_t socket_mode = 0600;               ///< tests may widen it to exercise the uid check
  /// Open connections at most. A new one beyond it closes the connection
  /// idle the longest (no request in progress, nothing to send), else it
  /// gets a `busy` error and is closed.
  size_t max_connections = 256;
  /// A connection with no request in progress and nothing to send for this
  /// long is closed.
  std::chrono::milliseconds idle_timeout{60000};
  /// Requests of one connection read ahead and not yet answered at most;
  /// the rest waits in the socket buffer (a stream, `events -f`, counts as
  /// one until it ends).
  uint32_t max_pipelined = 16;
  /// Descriptors kept free for supervision (pidfds, pipes, spawns): when an
  /// accepted connection's descriptor is this close to RLIMIT_NOFILE, the
  /// server keeps at most `low_fd_connections` (said once in the log). The
  /// descriptor budget leaves the same number free.
  size_t fd_reserve = config::fd_reserve;
  size_t low_fd_connections = 4;
};

class control_server {
public:
  struct handlers {
    /// A decoded request (called on the server thread; keep it short, e.g.
    /// one actor message). Malformed requests never reach it: the server
    /// answers them itself with an error reply.
    std::function<void(uint64_t conn, request req)> on_request;
    /// The connection is gone (client closed, dropped for being slow, or
    /// server shutdown). Called on the server thread, once per connection.
    std::function<void(uint64_t conn)> on_close;
    /// Something the daemon's log should say (a limit was reached). Called
    /// on the server thread, once per episode.
    std::function<void(const std::string& text)> on_notice;
  };

  /// Binds a Unix stream socket at `path` (replacing a stale socket file; the
  /// caller guarantees no other live server uses it, e.g. with a lock),
  /// chmod to `opts.socket_mode`, and starts the thread. Only peers with our
  /// effective uid, or root, are served (SO_PEERCRED); others get a
  /// "forbidden" error reply and are closed. Throws std::system_error.
  control_server(std::string path, handlers h, server_options opts = {});
  /// Stops the thread, closes every connection, removes the socket file.
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  /// Queues one encoded line for `conn`. Thread-safe, never blocks; a no-op
  /// if the connection is gone. If the queue would exceed max_outbound the
  /// connection is dropped (on_close follows).
  void send(uint64_t conn, std::string line);

  /// Closes `conn` once its queued output is written. Thread-safe.
  void close_after_flush(uint64_t conn);

  /// Whether `conn` is still open: work for a client that left is skipped.
  /// Thread-safe.
  bool is_open(uint64_t conn) const;

  const std::string& path() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::proto
