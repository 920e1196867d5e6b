#include "keeper/keeper.hpp"

#include "keeper/wire.hpp"
#include "logs/write_ledger.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace arbor::keeper {

using json = nlohmann::json;
using clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t listen_tag = 0;
constexpr uint64_t watch_tag_base = uint64_t{1} << 47;  // connection ids stay below
constexpr uint64_t stream_tag_base = uint64_t{1} << 48; // daemon watches stay below

std::string err_text(const std::string& what, int e) {
  return what + ": " + std::strerror(e);
}

} // namespace

keeper_server::keeper_server(keeper_options opts)
    : opts_(std::move(opts)),
      streams_(opts_.idle_flush),
      daemons_(opts_.home, opts_.replace_limit, opts_.replace_period) {}

keeper_server::~keeper_server() {
  streams_.clear();
  for (auto& kv : conns_)
    ::close(kv.second.fd);
  if (listen_fd_ >= 0)
    ::close(listen_fd_);
  if (epfd_ >= 0)
    ::close(epfd_);
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

int keeper_server::open(std::string& error) {
  auto lock = detail::lock_path(opts_.home);
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) {
    error = err_text("open " + lock, errno);
    return keeper_exit_error;
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      error = "another keeper holds " + lock;
      return keeper_exit_busy;
    }
    error = err_text("lock " + lock, errno);
    return keeper_exit_error;
  }
  auto path = detail::socket_path(opts_.home);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = "socket path too long (" + std::to_string(path.size()) + " bytes): " + path;
    return keeper_exit_error;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) {
    error = err_text("socket", errno);
    return keeper_exit_error;
  }
  ::unlink(path.c_str()); // a stale one: we hold the lock, so nobody else listens there
  mode_t old = ::umask(077); // single-threaded here: the socket is born 0600
  int rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int e = errno;
  ::umask(old);
  if (rc != 0) {
    error = err_text("bind " + path, e);
    return keeper_exit_error;
  }
  if (::listen(listen_fd_, 64) != 0) {
    error = err_text("listen " + path, errno);
    return keeper_exit_error;
  }
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    error = err_text("epoll_create1", errno);
    return keeper_exit_error;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = listen_tag;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  started_ = clock::now();
  detail::note("event=listening socket=" + path);
  return keeper_exit_ok;
}

bool keeper_server::should_exit(clock::time_point now) const {
  if (bye_)
    return true;
  if (daemon_conn_ != 0 || streams_.size() > 0 || sockets_.size() > 0 || !conns_.empty()
      || daemons_.size() > 0)
    return false;
  return had_daemon_ || now - started_ >= opts_.startup_grace;
}

int keeper_server::run() {
  epoll_event events[64];
  for (;;) {
    auto now = clock::now();
    if (should_exit(now))
      break;
    int timeout = streams_.next_due_ms(now);
    if (!had_daemon_ && daemon_conn_ == 0 && streams_.size() == 0 && sockets_.size() == 0
        && conns_.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(started_ + opts_.startup_grace - now);
      int ms = static_cast<int>(left.count()) + 1;
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    int n = ::epoll_wait(epfd_, events, 64, timeout);
    if (n < 0 && errno != EINTR) {
      detail::note(err_text("event=epoll_failed error", errno));
      break;
    }
    now = clock::now();
    for (int i = 0; i < n && !bye_; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == listen_tag)
        accept_all();
      else if (tag < watch_tag_base)
        on_message(tag);
      else if (tag < stream_tag_base)
        on_daemon_exit(tag);
      else
        streams_.serve(tag, now); // ignored unless draining
    }
    streams_.flush_due(clock::now());
  }
  // Nothing may connect to a keeper that is leaving: the socket goes first.
  ::unlink(detail::socket_path(opts_.home).c_str());
  ::close(listen_fd_);
  listen_fd_ = -1;
  size_t held = streams_.size();
  streams_.clear();
  size_t sockets = sockets_.size();
  sockets_.clear();
  detail::note(std::string{"event=exiting reason="} + (bye_ ? "bye" : "nothing_to_keep")
               + " streams=" + std::to_string(held) + " sockets=" + std::to_string(sockets));
  return keeper_exit_ok;
}

void keeper_server::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return; // EAGAIN, or EMFILE: it stays in the backlog
    }
    // Replies to a stuck peer must not wedge the keeper.
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    uint64_t id = next_conn_++;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    conns_[id] = connection{};
    conns_[id].fd = fd;
  }
}

void keeper_server::drop(uint64_t id, const char* why) {
  auto it = conns_.find(id);
  if (it == conns_.end())
    return;
  ::close(it->second.fd); // also leaves the epoll set (the socket is ours alone)
  int32_t pid = it->second.pid;
  if (id == daemon_conn_ && !bye_)
    recover_ledger(it->second);
  for (int fd : {it->second.ledger_page, it->second.ledger_trash})
    if (fd >= 0)
      ::close(fd);
  bool replaced = it->second.has_command;
  conns_.erase(it);
  if (id != daemon_conn_)
    return;
  daemon_conn_ = 0;
  if (bye_)
    return;
  lost_pid_ = pid;
  detail::note(std::string{"event=daemon_lost daemon_pid="} + std::to_string(pid) + " reason=" + why
               + " streams=" + std::to_string(streams_.size())
               + (replaced ? " replace=when_it_exits" : " replace=no"));
  streams_.start_draining(epfd_, stream_tag_base);
}

void keeper_server::on_daemon_exit(uint64_t tag) {
  detail::watched_daemon w;
  if (!daemons_.exited(tag, w) || bye_)
    return;
  if (daemon_conn_ != 0) {
    if (conns_.at(daemon_conn_).pid != w.pid)
      return; // a newer daemon took over
    // Its exit came before its hangup: what it sent last (pipes to hold, the
    // command of a file it applied) may still be queued, and counts.
    take_pending(daemon_conn_);
    if (auto& c = conns_.at(daemon_conn_); !c.command.argv.empty()) w.command = c.command;
    drop(daemon_conn_, "exited");
  }
  daemons_.replace(epfd_, watch_tag_base, w.command, w.pid);
}

void keeper_server::on_message(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end())
    return;
  std::string text;
  std::vector<int> fds;
  int r = detail::recv_message(it->second.fd, text, fds);
  if (r == 0) {
    drop(id, "closed");
    return;
  }
  if (r < 0) {
    drop(id, r == -EMSGSIZE ? "oversized_message" : "read_error");
    return;
  }
  handle(id, text, fds);
  detail::close_all(fds); // whatever was not taken
}

namespace {

void reply_error(int fd, const std::string& message) {
  json j{{"op", "error"}, {"message", message}};
  detail::send_message(fd, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

/// hello's "command": {"argv":[...],"env":[...]}; false if there is none.
bool command_of(const json& msg, detail::daemon_command& out) {
  auto it = msg.find("command");
  if (it == msg.end() || !it->is_object())
    return false;
  out.argv = it->value("argv", std::vector<std::string>{});
  out.env = it->value("env", std::vector<std::string>{});
  return !out.argv.empty() && !out.argv[0].empty();
}

} // namespace

void keeper_server::handle(uint64_t id, const std::string& text, std::vector<int>& fds) {
  connection& c = conns_.at(id);
  json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object()) {
    reply_error(c.fd, "not a JSON object");
    return;
  }
  try {
    std::string op = msg.value("op", "");
    if (op == "hello") {
      if (fds.size() == 2 && msg.value("ledger", false) && c.ledger_page < 0) {
        c.ledger_page = fds[0];
        c.ledger_trash = fds[1];
        fds.clear();
      }
      on_hello(id, msg.value("pid", 0), msg);
      return;
    }
    if (!c.daemon) {
      reply_error(c.fd, op.empty() ? "no op" : "'" + op + "' before hello");
      return;
    }
    if (op == "hold") {
      detail::stream_meta m;
      m.id = msg.value("id", "");
      m.path = msg.value("path", "");
      m.prefix = msg.value("prefix", "");
      m.date_format = msg.value("date_format", "");
      m.rotate.max_size = msg.value("max_size", uint64_t{0});
      m.rotate.max_files = std::max<uint32_t>(1, msg.value("max_files", uint32_t{1}));
      struct stat st{};
      std::string bad = fds.size() != 1                         ? "hold needs exactly one descriptor"
                        : m.id.empty() || m.path.empty()         ? "hold needs an id and a path"
                        : m.path.size() > detail::max_path       ? "path too long"
                        : m.prefix.size() > detail::max_prefix   ? "prefix too long"
                        : m.date_format.size() > detail::max_date_format ? "date_format too long"
                        : ::fstat(fds[0], &st) != 0 || !S_ISFIFO(st.st_mode) ? "not a pipe"
                                                                 : "";
      if (!bad.empty()) {
        reply_error(c.fd, bad + " (" + m.id + ")");
        return;
      }
      streams_.hold(std::move(m), fds[0]);
      fds.clear();
    } else if (op == "release") {
      streams_.release(msg.value("id", ""));
    } else if (op == "hold_socket") {
      std::string sid = msg.value("id", "");
      struct stat st{};
      std::string bad = fds.size() != 1 ? "hold_socket needs exactly one descriptor"
                        : sid.empty() || sid.size() > detail::max_path ? "hold_socket needs an id"
                        : ::fstat(fds[0], &st) != 0 || !S_ISSOCK(st.st_mode) ? "not a socket"
                                                                            : "";
      if (!bad.empty()) {
        reply_error(c.fd, bad + " (" + sid + ")");
        return;
      }
      sockets_.hold(sid, fds[0]);
      fds.clear();
    } else if (op == "release_socket") {
      sockets_.release(msg.value("id", ""));
    } else if (op == "command") { // the daemon runs another file or environment now
      detail::daemon_command command;
      if (!command_of(msg, command)) {
        reply_error(c.fd, "command needs argv");
        return;
      }
      c.has_command = true;
      daemons_.set_command(c.pid, command);
      c.command = std::move(command);
    } else if (op == "bye") {
      bye_ = true;
      detail::send_message(c.fd, R"({"op":"bye"})");
    } else {
      reply_error(c.fd, "unknown op '" + op + "'");
    }
  } catch (const std::exception& e) { // a field of the wrong type
    reply_error(c.fd, e.what());
  }
}

void keeper_server::recover_ledger(connection& c) {
  if (c.ledger_page < 0)
    return;
  std::string done = logs::ledger_recover(
    c.ledger_page, c.ledger_trash, [&](const std::string& key, logs::ledger_stream& s) {
      return streams_.find(key, s.fd, s.path);
    });
  if (!done.empty())
    detail::note("event=ledger daemon_pid=" + std::to_string(c.pid) + " did=\"" + done + "\"");
  ::close(c.ledger_page);
  c.ledger_page = -1;
}

void keeper_server::take_pending(uint64_t id) {
  // A daemon's last holds, releases and command were sent before its death
  // or a new hello (its messages may still be queued): they count.
  int fd = conns_.at(id).fd;
  for (;;) {
    std::string text;
    std::vector<int> fds;
    if (detail::recv_message(fd, text, fds, true) <= 0)
      return;
    json msg = json::parse(text, nullptr, false);
    auto op = msg.is_object() ? msg.find("op") : msg.end();
    if (msg.is_object() && op != msg.end()
        && (*op == "hold" || *op == "release" || *op == "hold_socket" || *op == "release_socket"
            || *op == "command"))
      handle(id, text, fds);
    detail::close_all(fds);
  }
}


void keeper_server::on_hello(uint64_t id, int32_t pid, const json& msg) {
  if (daemon_conn_ != 0 && daemon_conn_ != id) {
    detail::note("event=daemon_replaced old_pid=" + std::to_string(conns_.at(daemon_conn_).pid)
                 + " new_pid=" + std::to_string(pid));
    uint64_t old = daemon_conn_;
    take_pending(old);
    recover_ledger(conns_.at(old));
    daemon_conn_ = 0; // not lost: replaced, so no draining in between
    drop(old, "replaced");
  }
  connection& c = conns_.at(id);
  c.daemon = true;
  c.pid = pid;
  daemon_conn_ = id;
  had_daemon_ = true;
  detail::daemon_command command;
  bool started_here = false;
  if (command_of(msg, command)) {
    c.has_command = true;
    started_here = daemons_.watch(epfd_, watch_tag_base, pid, std::move(command));
  }
  bool was_draining = streams_.draining();
  streams_.stop_draining(); // what was read is in the files now; the rest waits in the pipes
  detail::note("event=hello daemon_pid=" + std::to_string(pid) + " streams="
               + std::to_string(streams_.size()) + " sockets=" + std::to_string(sockets_.size())
               + (was_draining ? " was_draining=1" : ""));
  bool sent = send_streams(c, started_here);
  lost_pid_ = 0;
  if (!sent)
    drop(id, "send_failed");
}

bool keeper_server::send_streams(connection& c, bool started_here) {
  json batch = json::array();
  json socket_ids = json::array();
  std::vector<int> fds;     // the streams' first, then the sockets'
  std::vector<int> socks;
  size_t size = 0;
  auto send = [&](bool more) {
    json msg{{"op", "streams"}, {"streams", batch}, {"sockets", socket_ids}, {"more", more},
             {"keeper_pid", static_cast<int>(::getpid())}, {"lost_pid", lost_pid_},
             {"started_by_keeper", started_here}};
    fds.insert(fds.end(), socks.begin(), socks.end());
    int rc = detail::send_message(c.fd, msg.dump(-1, ' ', false, json::error_handler_t::replace),
                                  fds.data(), fds.size());
    batch = json::array();
    socket_ids = json::array();
    fds.clear();
    socks.clear();
    size = 0;
    return rc == 0;
  };
  bool ok = true;
  // Starts a new batch when this entry (`len` bytes of text) would not fit.
  auto room_for = [&](size_t len) {
    if (ok && (fds.size() + socks.size() == detail::max_fds || size + len > detail::max_text - 512))
      ok = send(true);
    size += len;
  };
  streams_.for_each([&](const detail::stream_meta& m, int fd, const detail::stream_counts& n) {
    if (!ok)
      return;
    json s{{"id", m.id}, {"path", m.path}, {"prefix", m.prefix}, {"date_format", m.date_format},
           {"drained", n.drained}, {"dropped", n.dropped}};
    room_for(s.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1);
    batch.push_back(std::move(s));
    fds.push_back(fd);
  });
  for (const auto& [id, fd] : sockets_.all()) {
    room_for(id.size() + 3);
    socket_ids.push_back(id);
    socks.push_back(fd);
  }
  return ok && send(false);
}

} // namespace arbor::keeper
