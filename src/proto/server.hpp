#pragma once

// The daemon's side of the control socket: one thread, epoll, non-blocking
// connections. Requests are decoded here and handed to a callback; replies
// are queued from any thread. A slow or hostile client never blocks the
// caller of send() nor the tree.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "proto/protocol.hpp"

namespace arbor::proto {

struct server_options {
  size_t max_line = max_request_line;      ///< longer request lines: error reply, then close
  size_t max_outbound = 8u << 20;          ///< queued reply bytes per connection before it is dropped
  mode_t socket_mode = 0600;               ///< tests may widen it to exercise the uid check
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

  const std::string& path() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::proto
