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
  if (int rfd = reaper_.open(); rfd >= 0) {
    ev.data.u64 = reap_tag;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, rfd, &ev);
  } else {
    detail::note(err_text("event=no_subreaper error", errno));
  }
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
      else if (tag == reap_tag)
        reaper_.reap();
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
  reaper_.reap(); // our child: no zombie left, even without the reaper's signalfd
  if (!daemons_.exited(tag, w) || bye_)
    return;
  if (!w.replace_on_exit) { // started for `arbor up`, gone before its hello: up says why
    detail::note("event=daemon_exited_before_hello daemon_pid=" + std::to_string(w.pid));
    return;
  }
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

bool keeper_server::send_streams(connection& c, bool replacement) {
  json batch = json::array();
  json socket_ids = json::array();
  std::vector<int> fds;     // the streams' first, then the sockets'
  std::vector<int> socks;
  size_t size = 0;
  auto send = [&](bool more) {
    json msg{{"op", "streams"}, {"streams", batch}, {"sockets", socket_ids}, {"more", more},
             {"keeper_pid", static_cast<int>(::getpid())}, {"lost_pid", lost_pid_},
             {"started_by_keeper", replacement}};
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
