#pragma once

// The example app's two HTTP servers and its drain.
//
//   public  --listen HOST:PORT, shared by every instance (SO_REUSEPORT):
//           GET /            200 "instance I pid P"
//           GET /slow?ms=N   the same after N ms (at most 30 s): an in-flight request
//   admin   127.0.0.1:$PORT, this instance's own port (exclusive):
//           GET /health      200 "ready" once listening; 503 while starting or draining
//           GET /            as on the public port
//
// Drain (on SIGTERM): the public listener leaves the SO_REUSEPORT group (new
// connections go to the other instances); /health answers 503 and every
// response carries `Connection: close`; the admin listener closes (so a
// replacement could bind the same PORT); requests in flight finish and
// keep-alive connections end after their next response (or the keep-alive
// timeout if the client stays idle). See README.md.

#include "sockets.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace example {

struct options {
  std::string host = "127.0.0.1";  ///< public address (--listen)
  int port = 8080;
  std::string admin_host = "127.0.0.1";
  int admin_port = 0;               ///< $PORT or --admin-port; 0 = no admin server
  std::string instance = "0";       ///< $ARBOR_INSTANCE
  int startup_ms = 0;               ///< simulated slow start before listening
  int drain_timeout_ms = 8000;      ///< give up draining after this (keep below kill_timeout)
  int keepalive_secs = 5;           ///< idle keep-alive connections close after this
  int keepalive_max = 1000;         ///< requests per keep-alive connection
};

/// An httplib task queue with one thread per connection (a keep-alive
/// connection holds its thread for its whole life, so a fixed pool would
/// starve connections beyond its size) that counts live connections and
/// waits for them in `shutdown()`.
class connection_threads : public httplib::TaskQueue {
public:
  /// `counter` (may be null) counts every connection ever enqueued.
  explicit connection_threads(std::atomic<uint64_t>* counter)
    : counter_(counter), state_(std::make_shared<state>()) {}
  void enqueue(std::function<void()> fn) override;
  /// Returns once every connection has ended.
  void shutdown() override;
  uint64_t live() const;

private:
  struct state {
    mutable std::mutex mtx;
    std::condition_variable cv;
    uint64_t live = 0;
  };
  std::atomic<uint64_t>* counter_;
  std::shared_ptr<state> state_; // shared with detached threads: outlives the queue
};

class http_app {
public:
  explicit http_app(options opt);
  ~http_app();
  http_app(const http_app&) = delete;
  http_app& operator=(const http_app&) = delete;

  /// Starts the admin server on its thread. If another process still holds
  /// the port (the instance this one replaces), it retries every 10 ms until
  /// the port is free or the drain begins.
  void start_admin();
  /// Binds the public listener (joining the SO_REUSEPORT group) and starts
  /// serving it. Returns "" or an error text.
  std::string start_public();
  /// /health answers 200 from now on.
  void set_ready() { ready_ = true; }
  /// Starts the drain (see the file comment). Idempotent.
  void begin_drain();
  /// Waits until every public connection has ended, at most `timeout`.
  bool wait_drained(std::chrono::milliseconds timeout);
  /// Joins the public server's thread (only after wait_drained returned
  /// true). The admin thread is left to the process exit: an idle keep-alive
  /// health client could hold it for the keep-alive timeout.
  void join();

  uint64_t requests() const { return requests_; }
  uint64_t connections() const { return connections_; }
  std::string identity() const;

private:
  void routes(httplib::Server& s);
  void admin_loop();

  options opt_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> drain_started_{false};
  std::atomic<bool> draining_{false};  ///< /health 503, `Connection: close`
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> connections_{0};

  httplib::Server public_;
  httplib::Server admin_;
  listener_handle public_listener_{share_mode::reuse_port};
  listener_handle admin_listener_{share_mode::exclusive};
  std::thread public_thread_;
  std::thread admin_thread_;

  std::mutex done_mtx_;
  std::condition_variable done_cv_;
  bool public_done_ = false;
};

} // namespace example
