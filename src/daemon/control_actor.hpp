#pragma once

// The control plane's actor: answers protocol requests by asking the tree.
// Requests arrive from the control server's thread as messages; replies go
// back through a reply_sink (non-blocking), so a slow client never blocks it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "arbor/tree.hpp"
#include "config/targets.hpp"
#include "proto/protocol.hpp"
#include "proto/server.hpp"

namespace arbor::detail {

/// Connections whose id has this bit are the web bridge's (web_bridge.hpp);
/// the control server numbers its own from 1.
constexpr uint64_t web_conn_bit = uint64_t{1} << 63;

/// A place replies go besides the control server: the web bridge.
class reply_target {
public:
  virtual ~reply_target() = default;
  /// Must not block (called on the control actor).
  virtual void send(uint64_t conn, std::string line) = 0;
  virtual bool is_open(uint64_t conn) = 0;
};

/// Where replies go: the control server once it exists, and the web bridge
/// for its connections. Thread-safe.
class reply_sink {
public:
  void attach(proto::control_server* s) {
    std::lock_guard<std::mutex> g{m_};
    server_ = s;
  }
  void attach_web(reply_target* w) {
    std::lock_guard<std::mutex> g{m_};
    web_ = w;
  }
  void detach() {
    std::lock_guard<std::mutex> g{m_};
    server_ = nullptr;
    web_ = nullptr;
  }
  void send(uint64_t conn, std::string line) {
    std::lock_guard<std::mutex> g{m_};
    if (conn & web_conn_bit) {
      if (web_) web_->send(conn, std::move(line));
    } else if (server_) {
      server_->send(conn, std::move(line));
    }
  }
  /// False once the client left: its queued requests are not worked on.
  bool is_open(uint64_t conn) {
    std::lock_guard<std::mutex> g{m_};
    if (conn & web_conn_bit) return web_ && web_->is_open(conn);
    return server_ && server_->is_open(conn);
  }

private:
  std::mutex m_;
  proto::control_server* server_ = nullptr;
  reply_target* web_ = nullptr;
};

/// From the server thread: one decoded request.
struct control_request {
  uint64_t conn = 0;
  proto::request req;
};

/// A piece of blocking work for a detached worker (see off_thread).
struct io_job {
  std::function<void()> run;
};

/// From the server thread: a connection is gone (stop streaming to it).
struct conn_closed {
  uint64_t conn = 0;
};

struct control_options {
  std::string home;
  std::string config_file;              ///< the applied config (default of `apply`)
  std::string env;                      ///< its selected environment (`--env`), "" = none
  /// arbor-keeper starts this daemon again if it dies: an apply of another
  /// file or environment gives it the new command (daemon_command_for).
  bool keeper_restarts = false;
  std::function<void()> on_shutdown;    ///< `shutdown` was requested (any thread-safe signal)
  std::function<void()> on_root_gave_up; ///< the root supervisor gave up: the tree is down
};

struct control_state {
  static inline const char* name = "control";
  supervision_tree* tree = nullptr;     ///< outlives this actor
  std::shared_ptr<reply_sink> sink;
  /// The config as applied: names resolve against it, and `show` and `tree`
  /// print its keys. Its `instances` is the configured count only; the
  /// running count is the tree's (scale changes it), so whoever needs that
  /// asks the tree.
  tree_spec current;
  control_options opts;
  int64_t started_ms = 0;
  std::deque<event> recent;             ///< the last events, oldest first (as JSON on request:
                                        ///< ~4x smaller than json objects)
  std::map<uint64_t, uint64_t> followers; ///< conn -> request id of `events -f`
  /// `stop`/`restart` with `progress` until their final reply: (conn, request
  /// id) -> what they act on; their instances' stopping/killed events go to
  /// them as stream items.
  std::map<std::pair<uint64_t, uint64_t>, std::vector<config::target>> progress;
  bool trim_armed = false;              ///< a trim_atom is on its way (see note_busy)
  std::chrono::steady_clock::time_point last_busy; ///< the last request, reply or event
};

/// Time for the heap's free pages to go back to the kernel (control actor).
using trim_atom = caf::atom_constant<caf::atom("trim")>;

/// How long nothing must happen before the heap is trimmed.
constexpr std::chrono::milliseconds quiet_before_trim{250};

/// How many recent events are kept for `events`.
constexpr size_t recent_events = 1000;

caf::behavior control_actor(caf::stateful_actor<control_state>* self, supervision_tree* tree,
                            tree_spec current, std::shared_ptr<reply_sink> sink,
                            control_options opts);

} // namespace arbor::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(arbor::detail::control_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(arbor::detail::conn_closed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(arbor::detail::io_job)
