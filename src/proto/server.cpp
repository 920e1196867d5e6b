#include "proto/server_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

// The listening side of the control server: socket setup, the epoll loop,
// accepting (with the peer-credential check), shutdown and the public API.
// Per-connection reading, framing, queueing and writing live in
// connection.cpp.

namespace arbor::proto {

namespace {

constexpr uint64_t listen_token = ~uint64_t{0};
constexpr uint64_t wake_token = listen_token - 1;
/// How long accepting pauses when we run out of descriptors (EMFILE): the
/// listening socket stays readable, and level-triggered epoll would spin.
constexpr auto accept_pause = std::chrono::milliseconds(100);

/// How often idle connections are looked for: an idle one lives at most a
/// quarter longer than idle_timeout.
std::chrono::milliseconds sweep_interval(std::chrono::milliseconds idle_timeout) {
  return std::clamp(idle_timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(5000));
}

/// RLIMIT_NOFILE's soft limit now (it may be changed from outside: prlimit).
uint64_t fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return UINT64_MAX;
  return rl.rlim_cur;
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

} // namespace

control_server::impl::~impl() {
  for (auto& kv : conns)
    if (kv.second->fd >= 0)
      ::close(kv.second->fd);
  if (listen_fd >= 0)
    ::close(listen_fd);
  if (wakefd >= 0)
    ::close(wakefd);
  if (epfd >= 0)
    ::close(epfd);
  // Remove the socket file only if it is still ours: a successor may have
  // replaced it already.
  struct stat st {};
  if (bound && ::lstat(path.c_str(), &st) == 0 && st.st_dev == sock_dev && st.st_ino == sock_ino)
    ::unlink(path.c_str());
}

// --- setup (constructor thread) -------------------------------------------

void control_server::impl::open() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw_errno(ENAMETOOLONG, "control socket path must be 1 to "
                                + std::to_string(sizeof addr.sun_path - 1)
                                + " bytes long: '" + path + "'");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd < 0)
    throw_errno(errno, "cannot create the control socket");

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    // Only ever replace a socket: a regular file here is a mistake to report.
    if (!S_ISSOCK(st.st_mode))
      throw_errno(EEXIST, path + " exists and is not a socket; not replacing it");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      throw_errno(errno, "cannot remove the stale socket " + path);
  }
  if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno(errno, "cannot bind the control socket " + path);
  if (::lstat(path.c_str(), &st) != 0)
    throw_errno(errno, "cannot stat the control socket " + path);
  bound = true;
  sock_dev = st.st_dev;
  sock_ino = st.st_ino;
  if (::chmod(path.c_str(), opts.socket_mode) != 0)
    throw_errno(errno, "cannot chmod the control socket " + path);
  if (::listen(listen_fd, 64) != 0)
    throw_errno(errno, "cannot listen on the control socket " + path);

  wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakefd < 0)
    throw_errno(errno, "control server: eventfd");
  epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    throw_errno(errno, "control server: epoll_create1");
  add_to_epoll(listen_fd, listen_token, EPOLLIN);
  add_to_epoll(wakefd, wake_token, EPOLLIN);
}

void control_server::impl::add_to_epoll(int fd, uint64_t token, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw_errno(errno, "control server: epoll_ctl");
}

void control_server::impl::wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wakefd, &one, sizeof one);
  (void)n; // EAGAIN: the counter is already non-zero, a wake-up is pending
}

// --- server thread -----------------------------------------------------------

void control_server::impl::run() noexcept {
  current = this;
  try {
    loop();
  } catch (...) {
    // Only bad_alloc can get here; fall through to a clean shutdown.
  }
  try {
    work_dirty(); // best effort: replies queued just before the stop
    close_all();
  } catch (...) {
    // bad_alloc collecting the ids: ~impl still closes every fd
  }
}

void control_server::impl::loop() {
  epoll_event events[64];
  next_sweep = std::chrono::steady_clock::now() + sweep_interval(opts.idle_timeout);
  while (!stopping.load()) {
    auto wake_at = accept_paused ? std::min(accept_resume, next_sweep) : next_sweep;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      wake_at - std::chrono::steady_clock::now());
    int timeout = static_cast<int>(std::max<int64_t>(0, left.count()) + 1);
    int n = ::epoll_wait(epfd, events, 64, timeout);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return; // EBADF/EINVAL: nothing sensible left to do
    }
    auto now = std::chrono::steady_clock::now();
    if (accept_paused && now >= accept_resume)
      resume_accept();
    if (now >= next_sweep) {
      close_idle();
      next_sweep = now + sweep_interval(opts.idle_timeout);
    }
    for (int i = 0; i < n; ++i) {
      uint64_t token = events[i].data.u64;
      if (token == wake_token) {
        uint64_t count;
        ssize_t r = ::read(wakefd, &count, sizeof count);
        (void)r; // only the wake-up matters
      } else if (token == listen_token) {
        accept_all();
      } else {
        on_event(token, events[i].events);
      }
    }
    work_dirty();
  }
}

void control_server::impl::accept_all() {
  for (int i = 0; i < 64; ++i) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        pause_accept();
      return; // EAGAIN: all taken
    }
    try {
      add_connection(fd);
    } catch (...) {
      ::close(fd); // bad_alloc: refuse this one
    }
  }
}

void control_server::impl::pause_accept() {
  epoll_event ev{};
  ev.data.u64 = listen_token;
  ::epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev); // no events for now
  accept_paused = true;
  accept_resume = std::chrono::steady_clock::now() + accept_pause;
}

void control_server::impl::resume_accept() {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = listen_token;
  ::epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
  accept_paused = false;
}

void control_server::impl::add_connection(int fd) {
  auto c = std::make_shared<connection>();
  c->id = next_id++;
  c->fd = fd;
  ucred cred{};
  socklen_t len = sizeof cred;
  std::string refusal;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    refusal = std::string{"cannot identify the peer (SO_PEERCRED: "} + std::strerror(errno) + ")";
  else if (cred.uid != ::geteuid() && cred.uid != 0)
    refusal = "uid " + std::to_string(cred.uid) + " may not use this daemon (it serves uid "
              + std::to_string(::geteuid()) + " and root)";
  if (refusal.empty() && !make_room(fd, refusal))
    c->busy = true;
  c->served = refusal.empty();
  c->reading = c->served;
  c->last_active = std::chrono::steady_clock::now();
  c->events = c->served ? EPOLLIN | EPOLLRDHUP : 0;

  epoll_event ev{};
  ev.events = c->events;
  ev.data.u64 = c->id;
  if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    return;
  }
  std::lock_guard<std::mutex> guard{mtx};
  conns.emplace(c->id, c);
  if (!c->served)
    queue_locked(*c, encode_error(0, c->busy ? "busy" : "forbidden", refusal), true);
}

/// Makes room for the connection on `fd` under the connection cap (lower
/// while descriptors run short) by closing the one idle the longest. False,
/// with the refusal, when every connection is busy.
bool control_server::impl::make_room(int fd, std::string& refusal) {
  // Descriptors are handed out lowest first: every one below `fd` is in use.
  uint64_t limit = fd_limit();
  bool low = static_cast<uint64_t>(fd) + opts.fd_reserve >= limit;
  size_t cap = low ? std::min(opts.low_fd_connections, opts.max_connections) : opts.max_connections;
  if (!low) {
    low_fds_said = false;
  } else if (!low_fds_said) {
    low_fds_said = true;
    notice("descriptor " + std::to_string(fd) + " of " + std::to_string(limit)
           + " in use: fewer than " + std::to_string(opts.fd_reserve)
           + " left for supervision; the control socket serves at most "
           + std::to_string(cap) + " connections until more are free");
  }
  size_t open = 0;
  {
    std::lock_guard<std::mutex> guard{mtx};
    open = conns.size();
  }
  for (; open >= cap; --open)
    if (!evict_idlest()) {
      refusal = "too many connections (" + std::to_string(open) + ", all busy); try again";
      return false;
    }
  return true;
}

/// Closes the served connection idle the longest; false if none is idle.
bool control_server::impl::evict_idlest() {
  uint64_t victim = 0;
  {
    std::lock_guard<std::mutex> guard{mtx};
    std::chrono::steady_clock::time_point oldest = std::chrono::steady_clock::time_point::max();
    for (auto& kv : conns) {
      auto& c = *kv.second;
      if (c.served && c.in_flight == 0 && c.out_bytes == 0 && c.in.empty()
          && c.last_active < oldest) {
        oldest = c.last_active;
        victim = kv.first;
      }
    }
  }
  if (victim == 0)
    return false;
  close_conn(victim);
  return true;
}

/// Closes the connections idle for idle_timeout.
void control_server::impl::close_idle() {
  auto before = std::chrono::steady_clock::now() - opts.idle_timeout;
  std::vector<uint64_t> idle;
  {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& kv : conns) {
      auto& c = *kv.second;
      if (c.served && c.in_flight == 0 && c.out_bytes == 0 && c.in.empty()
          && c.last_active < before)
        idle.push_back(kv.first);
    }
  }
  for (uint64_t id : idle)
    close_conn(id);
}

void control_server::impl::notice(const std::string& text) {
  if (!h.on_notice)
    return;
  try {
    h.on_notice(text);
  } catch (...) {
    // a handler's failure must not take the server down
  }
}

void control_server::impl::close_all() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& kv : conns)
      ids.push_back(kv.first);
  }
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids)
    close_conn(id);
}

// --- control_server ----------------------------------------------------------

control_server::control_server(std::string path, handlers h, server_options opts)
    : impl_(std::make_unique<impl>(std::move(path), std::move(h), opts)) {
  impl_->open();
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

control_server::~control_server() {
  if (impl_->thread.joinable()) {
    impl_->stopping.store(true);
    impl_->wake();
    impl_->thread.join();
  }
}

void control_server::send(uint64_t conn, std::string line) {
  impl_->post(conn, std::move(line), false);
}

void control_server::close_after_flush(uint64_t conn) {
  impl_->post(conn, {}, true);
}

bool control_server::is_open(uint64_t conn) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->conns.count(conn) != 0;
}

const std::string& control_server::path() const {
  return impl_->path;
}

} // namespace arbor::proto
