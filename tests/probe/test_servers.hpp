#pragma once

// Servers the probe tests start on 127.0.0.1 ephemeral ports.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace probe_test {

/// /ok → 200, /fail → 500, /redirect → 302, /hang → waits until release()
/// (at most 10 s) then 200.
struct http_server {
  httplib::Server srv;
  std::thread thread;
  int port = 0;
  std::mutex mtx;
  std::condition_variable cv;
  bool released = false;

  http_server() {
    srv.new_task_queue = [] { return new httplib::ThreadPool(4); };
    srv.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("fine\n", "text/plain");
    });
    srv.Get("/fail", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("broken\n", "text/plain");
    });
    srv.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/elsewhere");
    });
    srv.Get("/hang", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lk(mtx);
      cv.wait_for(lk, std::chrono::seconds(10), [this] { return released; });
      res.set_content("late\n", "text/plain");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    if (port <= 0) throw std::runtime_error("cannot bind the test http server");
    thread = std::thread([this] { srv.listen_after_bind(); });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!srv.is_running() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void release() {
    {
      std::lock_guard<std::mutex> lk(mtx);
      released = true;
    }
    cv.notify_all();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  ~http_server() {
    release();
    srv.stop();
    thread.join();
  }
};

/// A listening TCP socket that never accepts (the kernel completes handshakes).
struct tcp_listener {
  int fd = -1;
  uint16_t port = 0;
  tcp_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 16) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen");
    port = ntohs(a.sin_port);
  }
  ~tcp_listener() { ::close(fd); }
};

/// A port nothing listens on: bound once to get it, then closed.
inline uint16_t closed_port() {
  tcp_listener l;
  return l.port;
}

} // namespace probe_test
