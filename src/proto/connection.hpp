#pragma once

// Private to the control server (server.cpp, connection.cpp): the state of
// one client connection. Who may touch which field is spelled out below and
// in server_impl.hpp.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

namespace arbor::proto::server_detail {

/// Bytes read from a connection per recv(); also the slack its input buffer
/// may hold beyond max_line.
inline constexpr size_t read_chunk = 64 * 1024;

struct connection {
  uint64_t id = 0;
  int fd = -1;
  bool served = false;          // passed the uid check and found room
  bool busy = false;            // refused for want of room (not of rights)

  // server thread only
  std::string in;               // bytes of the current, unfinished line(s)
  size_t scanned = 0;           // in[0, scanned) holds no '\n'
  bool reading = true;          // false once the connection is closing
  uint32_t events = 0;          // the epoll interest registered
  std::chrono::steady_clock::time_point last_active; // last read or write

  // Lines handed out (to on_request, or answered with an error) whose final
  // reply is not queued yet: incremented by the server thread, decremented
  // by whoever queues the final reply (under impl::mtx).
  std::atomic<uint32_t> in_flight{0};

  // guarded by impl::mtx
  std::deque<std::string> out;
  size_t front_sent = 0;        // bytes of out.front() already written
  size_t out_bytes = 0;         // queued and not yet written
  bool close_when_flushed = false;
  bool drop = false;            // close now, queued data discarded
  bool flagged = false;         // listed in impl::dirty
};

} // namespace arbor::proto::server_detail
