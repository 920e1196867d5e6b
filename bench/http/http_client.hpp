#pragma once

// A minimal blocking HTTP/1.1 client for the HTTP benchmarks: one GET at a
// time on one connection, every step bounded by a deadline, and every way a
// request can fail named (the benchmarks count failures by kind).

#include <chrono>
#include <cstdint>
#include <string>

#include <netinet/in.h>

namespace bench_http {

using clock_type = std::chrono::steady_clock;

enum class outcome : uint8_t {
  ok,              ///< a complete response with status 200
  non_200,         ///< a complete response with another status
  connect_refused, ///< ECONNREFUSED: nobody listens on the port
  connect_reset,   ///< ECONNRESET while connecting (a listener closed with us queued)
  connect_timeout, ///< no connection within the deadline
  connect_error,   ///< any other connect error (EADDRNOTAVAIL: out of local ports, ...)
  reset,           ///< ECONNRESET/EPIPE on an established connection
  closed,          ///< EOF before the response was complete
  stale,           ///< `closed`/`reset` before any response byte on a *reused*
                   ///< keep-alive connection (the race RFC 9112 §9.3.1 lets clients retry)
  timeout,         ///< connected, but no complete response within the deadline
  bad_response,    ///< not parseable as HTTP/1.x
};
constexpr int outcome_count = 11;
const char* outcome_name(outcome o);

struct response {
  int status = 0;
  bool close = false;   ///< the server said `Connection: close` (or HTTP/1.0)
  std::string body;
};

/// Parses "HOST:PORT" (IPv4 dotted quad) into `out`.
bool parse_ipv4_endpoint(const std::string& text, sockaddr_in& out);

class connection {
public:
  explicit connection(const sockaddr_in& to) : to_(to) {}
  ~connection() { close(); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Sends `request` (a full request text) and reads one response, connecting
  /// first if needed. On anything but ok/non_200 the connection is closed;
  /// after a response with `close` set the caller should close it.
  outcome exchange(const std::string& request, clock_type::time_point deadline, response& out);
  void close();
  bool is_open() const { return fd_ >= 0; }
  /// errno of the last failure (0 if none).
  int last_errno() const { return errno_; }
  uint64_t connects() const { return connects_; }

private:
  outcome connect(clock_type::time_point deadline);
  outcome fail(outcome o, int err);
  bool wait(short events, clock_type::time_point deadline);

  sockaddr_in to_;
  int fd_ = -1;
  bool reused_ = false; ///< at least one response was read on this connection
  int errno_ = 0;
  uint64_t connects_ = 0;
  std::string buf_;
};

/// One GET of `path` on a new connection (closed afterwards).
outcome get_once(const sockaddr_in& to, const std::string& path, clock_type::time_point deadline,
                 response* out = nullptr);

/// "GET path HTTP/1.1" with Host and, if `close`, `Connection: close`.
std::string make_get(const std::string& host, const std::string& path, bool close);

} // namespace bench_http
