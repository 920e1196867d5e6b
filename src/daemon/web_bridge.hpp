#pragma once

// The web server's way into the control protocol: HTTP requests become
// control_requests on connections of their own (ids with web_conn_bit), and
// the control actor's replies come back here through the reply_sink. So the
// JSON API is the socket protocol itself, answered by the same code.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <caf/all.hpp>

#include "control_actor.hpp"

namespace arbor::detail {

class web_bridge final : public reply_target {
public:
  explicit web_bridge(caf::actor control) : control_(std::move(control)) {}

  /// A new connection; its replies queue until taken by next_line().
  uint64_t open();
  /// Sends `req` on `conn` to the control actor.
  void send_request(uint64_t conn, proto::request req);
  /// The next line for `conn` (a reply or a stream item), waiting until
  /// `deadline`; nullopt on timeout, when `conn` is not open, or after close_all().
  std::optional<std::string> next_line(uint64_t conn,
                                       std::chrono::steady_clock::time_point deadline);
  /// Forgets `conn` and tells the control actor (it stops streaming to it).
  void close(uint64_t conn);

  /// One request on a connection of its own: its final reply line, or
  /// nullopt if none came within `timeout`.
  std::optional<std::string> call(proto::request req, std::chrono::milliseconds timeout);

  /// Wakes every waiter for good (the server is stopping).
  void close_all();

  // reply_target (from the control actor: never blocks)
  void send(uint64_t conn, std::string line) override;
  bool is_open(uint64_t conn) override;

private:
  caf::actor control_;
  std::mutex m_;
  std::condition_variable cv_;
  std::map<uint64_t, std::deque<std::string>> inbox_; ///< open connections
  uint64_t next_ = 1;
  bool closing_ = false;
};

} // namespace arbor::detail
