#include "proto/server.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

// Threads: send() and close_after_flush() may run anywhere; everything else
// (accept, read, decode, write, close, the callbacks) runs on the server
// thread. A connection's outbound queue and flags are guarded by `mtx`; its
// fd, input buffer and epoll interest belong to the server thread alone. Only
// the server thread closes an fd, so one found in the map under `mtx` is open.
//
// Peers refused by the uid check get a connection id (ids are a plain counter)
// but are never reported: no on_request, no on_close. The handlers only ever
// hear of connections they may serve.

namespace arbor::proto {

namespace {

constexpr uint64_t listen_token = ~uint64_t{0};
constexpr uint64_t wake_token = listen_token - 1;
constexpr size_t read_chunk = 64 * 1024;
constexpr int max_iov = 64;
/// How long accepting pauses when we run out of descriptors (EMFILE): the
/// listening socket stays readable, and level-triggered epoll would spin.
constexpr auto accept_pause = std::chrono::milliseconds(100);

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

} // namespace

struct control_server::impl {
  struct connection {
    uint64_t id = 0;
    int fd = -1;
    bool served = false;          // passed the uid check

    // server thread only
    std::string in;               // bytes of the current, unfinished line(s)
    size_t scanned = 0;           // in[0, scanned) holds no '\n'
    bool reading = true;          // false once the connection is closing
    uint32_t events = 0;          // the epoll interest registered

    // guarded by impl::mtx
    std::deque<std::string> out;
    size_t front_sent = 0;        // bytes of out.front() already written
    size_t out_bytes = 0;         // queued and not yet written
    bool close_when_flushed = false;
    bool drop = false;            // close now, queued data discarded
    bool flagged = false;         // listed in impl::dirty
  };

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
  std::vector<char> buf = std::vector<char>(read_chunk);

  static inline thread_local const impl* current = nullptr; // set on the server thread

  impl(std::string p, handlers hs, server_options o)
      : path(std::move(p)), h(std::move(hs)), opts(o) {}

  ~impl() {
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

  void open() {
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

  void add_to_epoll(int fd, uint64_t token, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
      throw_errno(errno, "control server: epoll_ctl");
  }

  void wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wakefd, &one, sizeof one);
    (void)n; // EAGAIN: the counter is already non-zero, a wake-up is pending
  }

  // --- any thread ------------------------------------------------------------

  /// Queues `line` (or only the flag) for `c`; the caller holds `mtx`.
  /// Returns whether the server thread must be woken.
  bool queue_locked(connection& c, std::string line, bool close_after) {
    if (c.drop)
      return false;
    if (!line.empty()) {
      if (c.out_bytes + line.size() > opts.max_outbound) {
        // A peer that does not read: drop it now rather than grow without bound.
        c.drop = true;
        c.out.clear();
        c.out_bytes = 0;
        c.front_sent = 0;
      } else {
        c.out_bytes += line.size();
        c.out.push_back(std::move(line));
      }
    }
    if (close_after)
      c.close_when_flushed = true;
    if (c.flagged)
      return false;
    c.flagged = true;
    dirty.push_back(c.id);
    return true;
  }

  void post(uint64_t conn, std::string line, bool close_after) {
    bool must_wake = false;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto it = conns.find(conn);
      if (it == conns.end())
        return;
      must_wake = queue_locked(*it->second, std::move(line), close_after);
    }
    // On the server thread the dirty list is worked off before the next wait.
    if (must_wake && current != this)
      wake();
  }

  // --- server thread -----------------------------------------------------------

  void run() noexcept {
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

  void loop() {
    epoll_event events[64];
    while (!stopping.load()) {
      int timeout = -1;
      if (accept_paused) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          accept_resume - std::chrono::steady_clock::now());
        timeout = static_cast<int>(std::max<int64_t>(0, left.count()) + 1);
      }
      int n = ::epoll_wait(epfd, events, 64, timeout);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return; // EBADF/EINVAL: nothing sensible left to do
      }
      if (accept_paused && std::chrono::steady_clock::now() >= accept_resume)
        resume_accept();
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

  std::shared_ptr<connection> find(uint64_t id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second;
  }

  void accept_all() {
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

  void pause_accept() {
    epoll_event ev{};
    ev.data.u64 = listen_token;
    ::epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev); // no events for now
    accept_paused = true;
    accept_resume = std::chrono::steady_clock::now() + accept_pause;
  }

  void resume_accept() {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = listen_token;
    ::epoll_ctl(epfd, EPOLL_CTL_MOD, listen_fd, &ev);
    accept_paused = false;
  }

  void add_connection(int fd) {
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
    c->served = refusal.empty();
    c->reading = c->served;
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
      queue_locked(*c, encode_error(0, "forbidden", refusal), true);
  }

  void on_event(uint64_t id, uint32_t events) {
    auto c = find(id);
    if (!c)
      return; // closed earlier in this batch
    try {
      if ((events & EPOLLOUT) && !flush(*c))
        return;
      if (c->reading && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        read_some(*c);
      else if (events & (EPOLLHUP | EPOLLERR))
        close_conn(id);
    } catch (...) {
      close_conn(id); // bad_alloc while serving it: give up on this one
    }
  }

  /// One read per event keeps a flooding peer from starving the others.
  void read_some(connection& c) {
    ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        close_conn(c.id);
      return;
    }
    if (n == 0) {
      close_conn(c.id);
      return;
    }
    auto len = static_cast<size_t>(n);
    if (c.in.size() + len > c.in.capacity()) {
      // Grow by doubling but never past what a line may need: the buffer
      // stays within max_line + one read even under a flood.
      size_t cap = std::max(c.in.capacity() * 2, c.in.size() + len);
      c.in.reserve(std::min(cap, opts.max_line + 1 + read_chunk));
    }
    c.in.append(buf.data(), len);
    split_lines(c);
  }

  void split_lines(connection& c) {
    size_t start = 0;
    for (size_t nl = c.in.find('\n', c.scanned); nl != std::string::npos;
         nl = c.in.find('\n', start)) {
      std::string_view line{c.in.data() + start, nl - start};
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      if (line.size() > opts.max_line) {
        refuse_too_large(c, line);
        return;
      }
      handle_line(c, line);
      start = nl + 1;
    }
    c.in.erase(0, start);
    c.scanned = c.in.size();
    // No newline yet: past max_line (a final '\r' aside) it can only be too long.
    bool may_fit = c.in.size() == opts.max_line + 1 && c.in.back() == '\r';
    if (c.in.size() > opts.max_line && !may_fit) {
      refuse_too_large(c, c.in);
      return;
    }
    if (c.in.capacity() > 2 * read_chunk && c.in.size() < read_chunk)
      c.in.shrink_to_fit(); // a big request went by; don't keep its memory
  }

  void handle_line(connection& c, std::string_view line) {
    auto decoded = decode_request(line);
    if (auto* err = std::get_if<decode_error>(&decoded)) {
      post_local(c, encode_error(err->id, err->code, err->message), false);
      return;
    }
    auto& req = std::get<request>(decoded);
    uint64_t id = req.id;
    if (!h.on_request) {
      post_local(c, encode_error(id, "internal", "the daemon has no request handler"), false);
      return;
    }
    try {
      h.on_request(c.id, std::move(req));
    } catch (const std::exception& e) {
      std::string why = std::string{"request handler failed: "} + e.what();
      post_local(c, encode_error(id, "internal", why), false);
    } catch (...) {
      post_local(c, encode_error(id, "internal", "request handler failed"), false);
    }
  }

  /// Answers too_large (with the request's id if its start reveals it), stops
  /// reading and closes once the reply is out.
  void refuse_too_large(connection& c, std::string_view head) {
    uint64_t id = 0;
    auto decoded = decode_request(head.substr(0, opts.max_line));
    if (auto* err = std::get_if<decode_error>(&decoded))
      id = err->id;
    else
      id = std::get<request>(decoded).id;
    std::string().swap(c.in);
    c.scanned = 0;
    c.reading = false;
    post_local(c, encode_error(id, "too_large",
                               "request line exceeds " + std::to_string(opts.max_line) + " bytes"),
               true);
    set_interest(c, c.events & EPOLLOUT);
  }

  void post_local(connection& c, std::string line, bool close_after) {
    std::lock_guard<std::mutex> guard{mtx};
    queue_locked(c, std::move(line), close_after);
  }

  /// Works off every connection with queued output or a pending close, until
  /// none is left (callbacks may queue more).
  void work_dirty() {
    std::vector<uint64_t> ids;
    for (;;) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        if (dirty.empty())
          return;
        ids.swap(dirty);
        for (uint64_t id : ids)
          if (auto it = conns.find(id); it != conns.end())
            it->second->flagged = false;
      }
      for (uint64_t id : ids)
        if (auto c = find(id)) {
          try {
            flush(*c);
          } catch (...) {
            close_conn(id);
          }
        }
      ids.clear();
    }
  }

  /// Writes what the socket takes. Returns false if the connection was closed.
  bool flush(connection& c) {
    bool close_now = false;
    bool blocked = false;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (c.drop) {
        close_now = true;
      } else {
        while (!c.out.empty()) {
          iovec iov[max_iov];
          int count = 0;
          size_t skip = c.front_sent;
          for (auto it = c.out.begin(); it != c.out.end() && count < max_iov; ++it, ++count) {
            iov[count].iov_base = const_cast<char*>(it->data() + skip);
            iov[count].iov_len = it->size() - skip;
            skip = 0;
          }
          msghdr msg{};
          msg.msg_iov = iov;
          msg.msg_iovlen = static_cast<size_t>(count);
          ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0) {
            if (errno == EINTR)
              continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
              blocked = true;
            else
              close_now = true; // EPIPE, ECONNRESET: the peer is gone
            break;
          }
          auto written = static_cast<size_t>(n);
          c.out_bytes -= written;
          while (written > 0) {
            size_t left = c.out.front().size() - c.front_sent;
            if (written < left) {
              c.front_sent += written;
              break;
            }
            written -= left;
            c.out.pop_front();
            c.front_sent = 0;
          }
        }
        if (c.out.empty() && c.close_when_flushed)
          close_now = true;
      }
    }
    if (close_now) {
      close_conn(c.id);
      return false;
    }
    uint32_t want = c.reading ? EPOLLIN | EPOLLRDHUP : 0;
    set_interest(c, blocked ? want | EPOLLOUT : want);
    return true;
  }

  void set_interest(connection& c, uint32_t events) {
    if (events == c.events)
      return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    if (::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev) == 0)
      c.events = events;
  }

  /// Closes `id` if still open and reports it (served connections only).
  void close_conn(uint64_t id) {
    std::shared_ptr<connection> c;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto it = conns.find(id);
      if (it == conns.end())
        return;
      c = std::move(it->second);
      conns.erase(it);
      c->drop = true; // late posts through a stale pointer are no-ops
      c->out.clear();
      c->out_bytes = 0;
    }
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    c->fd = -1;
    std::string().swap(c->in);
    if (c->served && h.on_close) {
      try {
        h.on_close(id);
      } catch (...) {
        // a handler's failure must not take the server down
      }
    }
  }

  void close_all() {
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
};

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

const std::string& control_server::path() const {
  return impl_->path;
}

} // namespace arbor::proto
