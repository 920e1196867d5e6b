#pragma once

// The CLI's side of the control socket: blocking, one request at a time.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proto/protocol.hpp"

namespace arbor::proto {

class client {
public:
  /// Connects to the daemon's socket. On failure returns nullptr and sets
  /// `error` to a message an operator can act on, e.g. "no arbor daemon is
  /// running (no socket at /root/.arbor/arbor.sock); start one with `arbor
  /// up`", or "permission denied on /x/arbor.sock (owned by uid 1000)".
  static std::unique_ptr<client> connect(const std::string& socket_path, std::string& error);
  ~client();

  /// Sends `req` (its id is assigned here) and waits for the final reply.
  /// Stream items are passed to `on_item`; returning false from it ends the
  /// call (the connection is closed) with a synthetic ok reply. `timeout_ms`
  /// bounds the wait for each message (-1: forever). On transport failure
  /// (timeout, daemon gone, garbage) returns nullopt with `error` set.
  std::optional<response> call(request req, std::string& error, int timeout_ms = 30000,
                               const std::function<bool(const nlohmann::json&)>& on_item = {});

private:
  client() = default;
  int fd_ = -1;
  uint64_t next_id_ = 1;
  std::string inbuf_;
};

} // namespace arbor::proto
