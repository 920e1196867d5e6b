#include "http_app.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <sys/socket.h>
#include <unistd.h>

namespace example {

// --- connection_threads ------------------------------------------------------

void connection_threads::enqueue(std::function<void()> fn) {
  auto st = state_;
  {
    std::lock_guard<std::mutex> lock{st->mtx};
    ++st->live;
  }
  if (counter_) ++*counter_;
  try {
    std::thread([st, fn = std::move(fn)] {
      fn(); // serves the connection (keep-alive loop included), then closes it
      std::lock_guard<std::mutex> lock{st->mtx};
      --st->live;
      st->cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    // No thread: serve it here (the accept loop waits meanwhile).
    fn();
    std::lock_guard<std::mutex> lock{st->mtx};
    --st->live;
    st->cv.notify_all();
  }
}

void connection_threads::shutdown() {
  std::unique_lock<std::mutex> lock{state_->mtx};
  state_->cv.wait(lock, [&] { return state_->live == 0; });
}

uint64_t connection_threads::live() const {
  std::lock_guard<std::mutex> lock{state_->mtx};
  return state_->live;
}

// --- http_app ------------------------------------------------------------------

http_app::http_app(options opt) : opt_(std::move(opt)) {
  for (auto* s : {&public_, &admin_}) {
    // httplib writes headers and body apart: without TCP_NODELAY the body
    // waits for the client's delayed ACK (40 ms) on a keep-alive connection.
    s->set_tcp_nodelay(true);
    s->set_keep_alive_timeout(opt_.keepalive_secs);
    s->set_keep_alive_max_count(static_cast<size_t>(std::max(1, opt_.keepalive_max)));
    routes(*s);
  }
  public_.new_task_queue = [this] { return new connection_threads(&connections_); };
  admin_.new_task_queue = [] { return new connection_threads(nullptr); };
  public_.set_socket_options([this](int sock) { public_listener_.adopt(sock); });
  admin_.set_socket_options([this](int sock) { admin_listener_.adopt(sock); });
}

http_app::~http_app() {
  begin_drain();
  // Threads still running here (a drain that timed out) must not be joined
  // forever nor destroyed joinable: the process is about to exit anyway.
  if (public_thread_.joinable()) public_thread_.detach();
  if (admin_thread_.joinable()) admin_thread_.detach();
}

std::string http_app::identity() const {
  return "instance " + opt_.instance + " pid " + std::to_string(::getpid());
}

void http_app::routes(httplib::Server& s) {
  s.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    ++requests_;
    res.set_content(identity() + "\n", "text/plain");
  });
  s.Get("/slow", [this](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    long ms = 100;
    if (req.has_param("ms")) ms = std::strtol(req.get_param_value("ms").c_str(), nullptr, 10);
    ms = std::clamp(ms, 0L, 30000L);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    res.set_content(identity() + " slept " + std::to_string(ms) + " ms\n", "text/plain");
  });
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (draining_) {
      res.status = 503;
      res.set_content("draining\n", "text/plain");
    } else if (!ready_) {
      res.status = 503;
      res.set_content("starting\n", "text/plain");
    } else {
      res.set_content("ready\n", "text/plain");
    }
  });
  // While draining, tell keep-alive clients to close after this response (and
  // reconnect: to another instance, since this one left the listener group),
  // instead of closing under them when they send their next request.
  s.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    if (draining_) res.set_header("Connection", "close");
  });
}

void http_app::start_admin() {
  if (opt_.admin_port <= 0) return;
  admin_thread_ = std::thread([this] { admin_loop(); });
}

void http_app::admin_loop() {
  bool said = false;
  while (!draining_) {
    if (admin_.bind_to_port(opt_.admin_host, opt_.admin_port)) {
      admin_listener_.set_backlog(SOMAXCONN);
      std::printf("%s: admin on %s:%d (/health)\n", identity().c_str(), opt_.admin_host.c_str(),
                  opt_.admin_port);
      std::fflush(stdout);
      admin_.listen_after_bind(); // returns once the listener is shut down
      return;
    }
    admin_listener_.release();
    if (!said) {
      std::printf("%s: admin port %d busy (the instance being replaced?): retrying\n",
                  identity().c_str(), opt_.admin_port);
      std::fflush(stdout);
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string http_app::start_public() {
  if (!public_.bind_to_port(opt_.host, opt_.port)) {
    public_listener_.release();
    return "cannot listen on " + opt_.host + ":" + std::to_string(opt_.port)
           + " (held by a process without SO_REUSEPORT, or another user?)";
  }
  if (!public_listener_.set_backlog(SOMAXCONN)) return "listen(backlog) failed";
  public_thread_ = std::thread([this] {
    public_.listen_after_bind(); // returns once the listener is shut down and
                                 // every connection has ended (connection_threads)
    std::lock_guard<std::mutex> lock{done_mtx_};
    public_done_ = true;
    done_cv_.notify_all();
  });
  return {};
}

void http_app::begin_drain() {
  if (drain_started_.exchange(true)) return;
  // Leave the listener group first, then tell keep-alive clients to
  // reconnect: a reconnect must not land in this listener's accept queue.
  public_listener_.shutdown();
  draining_ = true;
  admin_listener_.shutdown();
}

bool http_app::wait_drained(std::chrono::milliseconds timeout) {
  if (!public_thread_.joinable()) return true;
  std::unique_lock<std::mutex> lock{done_mtx_};
  return done_cv_.wait_for(lock, timeout, [&] { return public_done_; });
}

void http_app::join() {
  if (public_thread_.joinable()) public_thread_.join();
}

} // namespace example
