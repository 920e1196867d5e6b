#pragma once

// Private to the control server: control_server::impl, shared by server.cpp
// (socket setup, the epoll loop, accepting and the peer-credential check,
// shutdown) and connection.cpp (per-connection queueing, reading, framing,
// writing and closing).
//
// Threads: send() and close_after_flush() may run anywhere; everything else
// (accept, read, decode, write, close, the callbacks) runs on the server
// thread. A connection's outbound queue and flags are guarded by `mtx`; its
// fd, input buffer and epoll interest belong to the server thread alone. Only
// the server thread closes an fd, so one found in the map under `mtx` is open.
//
// Peers refused by the uid check get a connection id (ids are a plain counter)
// but are never reported: no on_request, no on_close. The handlers only ever
// hear of connections they may serve.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "proto/connection.hpp"
#include "proto/server.hpp"

namespace arbor::proto {

struct control_server::impl {
  using connection = server_detail::connection;

  std::string path;
  handlers h;
  server_options opts;
  int listen_fd = -1;
  int epfd = -1;
  int wakefd = -1;
  bool bound = false;
  dev_t sock_dev = 0;
  ino_t sock_ino = 0;
  std::atomic<bool> stopping{false};
  std::thread thread;

  std::mutex mtx;
  std::unordered_map<uint64_t, std::shared_ptr<connection>> conns; // guarded by mtx
  std::vector<uint64_t> dirty;  // guarded by mtx: connections with work for the thread

  // server thread only
  uint64_t next_id = 1;
  bool accept_paused = false;
  std::chrono::steady_clock::time_point accept_resume;
  std::chrono::steady_clock::time_point next_sweep; // for idle connections
  bool low_fds_said = false; // the low-descriptor notice went out (this episode)
  // Not zero-filled: only the pages a read reaches become resident (a
  // std::vector<char>(64K) was 64 KB of the daemon's memory for good).
  std::unique_ptr<char[]> buf{new char[server_detail::read_chunk]};

  static inline thread_local const impl* current = nullptr; // set on the server thread

  impl(std::string p, handlers hs, server_options o)
      : path(std::move(p)), h(std::move(hs)), opts(o) {}
  ~impl();

  // --- setup (constructor thread); server.cpp --------------------------------
  void open();
  void add_to_epoll(int fd, uint64_t token, uint32_t events);
  void wake();

  // --- any thread; connection.cpp --------------------------------------------
  bool queue_locked(connection& c, std::string line, bool close_after);
  void post(uint64_t conn, std::string line, bool close_after);

  // --- server thread; server.cpp ---------------------------------------------
  void run() noexcept;
  void loop();
  void accept_all();
  void pause_accept();
  void resume_accept();
  void add_connection(int fd);
  bool make_room(int fd, std::string& refusal);
  bool evict_idlest();
  void close_idle();
  void notice(const std::string& text);
  void close_all();

  // --- server thread; connection.cpp -----------------------------------------
  std::shared_ptr<connection> find(uint64_t id);
  void on_event(uint64_t id, uint32_t events);
  void read_some(connection& c);
  void split_lines(connection& c);
  bool may_read(const connection& c) const;
  void resume_reading(connection& c);
  void handle_line(connection& c, std::string_view line);
  void refuse_too_large(connection& c, std::string_view head);
  void post_local(connection& c, std::string line, bool close_after);
  void work_dirty();
  bool flush(connection& c);
  uint32_t wanted_events(const connection& c) const;
  void set_interest(connection& c, uint32_t events);
  void close_conn(uint64_t id);
};

} // namespace arbor::proto
