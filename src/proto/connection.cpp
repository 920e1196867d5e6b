#include "proto/server_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <string_view>
#include <utility>
#include <variant>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

// Per-connection work of the control server: queueing replies (with the
// outbound cap), reading and splitting request lines (with the too-large
// rule), dispatching them, writing queued output and closing.

namespace arbor::proto {

using server_detail::connection;
using server_detail::read_chunk;

namespace {

constexpr int max_iov = 64;

} // namespace

// --- any thread ------------------------------------------------------------

/// Queues `line` (or only the flag) for `c`; the caller holds `mtx`.
/// Returns whether the server thread must be woken.
bool control_server::impl::queue_locked(connection& c, std::string line, bool close_after) {
  if (c.drop)
    return false;
  if (!line.empty()) {
    if (c.in_flight > 0 && !is_item(line)) {
      // A final reply: the connection may have one more request read. The
      // server thread resumes reading when it works the dirty list.
      --c.in_flight;
    }
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

void control_server::impl::post(uint64_t conn, std::string line, bool close_after) {
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

std::shared_ptr<connection> control_server::impl::find(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx};
  auto it = conns.find(id);
  return it == conns.end() ? nullptr : it->second;
}

void control_server::impl::on_event(uint64_t id, uint32_t events) {
  auto c = find(id);
  if (!c)
    return; // closed earlier in this batch
  try {
    if ((events & EPOLLOUT) && !flush(*c))
      return;
    if (may_read(*c) && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
      read_some(*c);
    else if (events & (EPOLLHUP | EPOLLERR))
      close_conn(id);
    else if (c->reading && (events & EPOLLRDHUP))
      close_conn(id); // left with requests unread: they are dropped unread
  } catch (...) {
    close_conn(id); // bad_alloc while serving it: give up on this one
  }
}

/// One read per event keeps a flooding peer from starving the others.
void control_server::impl::read_some(connection& c) {
  ssize_t n = ::recv(c.fd, buf.get(), read_chunk, 0);
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
  c.last_active = std::chrono::steady_clock::now();
  if (c.in.size() + len > c.in.capacity()) {
    // Grow by doubling but never past what a line may need: the buffer
    // stays within max_line + one read even under a flood.
    size_t cap = std::max(c.in.capacity() * 2, c.in.size() + len);
    c.in.reserve(std::min(cap, opts.max_line + 1 + read_chunk));
  }
  c.in.append(buf.get(), len);
  split_lines(c);
}

void control_server::impl::split_lines(connection& c) {
  size_t start = 0;
  bool full = false;
  for (size_t nl = c.in.find('\n', c.scanned); nl != std::string::npos;
       nl = c.in.find('\n', start)) {
    if (c.in_flight >= opts.max_pipelined) {
      full = true; // the rest waits for replies (and more in the socket buffer)
      break;
    }
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
  if (full) {
    c.scanned = 0;
    set_interest(c, wanted_events(c) | (c.events & EPOLLOUT));
    return;
  }
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

void control_server::impl::handle_line(connection& c, std::string_view line) {
  ++c.in_flight; // every line gets one final reply, an error included
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
void control_server::impl::refuse_too_large(connection& c, std::string_view head) {
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

void control_server::impl::post_local(connection& c, std::string line, bool close_after) {
  std::lock_guard<std::mutex> guard{mtx};
  queue_locked(c, std::move(line), close_after);
}

/// Works off every connection with queued output or a pending close, until
/// none is left (callbacks may queue more).
void control_server::impl::work_dirty() {
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
          if (flush(*c))
            resume_reading(*c);
        } catch (...) {
          close_conn(id);
        }
      }
    ids.clear();
  }
}

/// Writes what the socket takes. Returns false if the connection was closed.
bool control_server::impl::flush(connection& c) {
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
        c.last_active = std::chrono::steady_clock::now();
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
  uint32_t want = wanted_events(c);
  set_interest(c, blocked ? want | EPOLLOUT : want);
  return true;
}

/// Whether `c` may take another request now.
bool control_server::impl::may_read(const connection& c) const {
  return c.reading && c.in_flight < opts.max_pipelined;
}

/// After replies went out: the requests already buffered, then the socket.
void control_server::impl::resume_reading(connection& c) {
  if (!may_read(c))
    return;
  if (c.scanned == 0 && c.in.find('\n') != std::string::npos)
    split_lines(c);
  if (find(c.id))
    set_interest(c, wanted_events(c) | (c.events & EPOLLOUT));
}

/// Reading interest: input while `c` may take requests; only the hang-up
/// while its pipeline is full (a client that leaves drops its unread work).
uint32_t control_server::impl::wanted_events(const connection& c) const {
  if (!c.reading)
    return 0;
  return may_read(c) ? EPOLLIN | EPOLLRDHUP : EPOLLRDHUP;
}

void control_server::impl::set_interest(connection& c, uint32_t events) {
  if (events == c.events)
    return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = c.id;
  if (::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev) == 0)
    c.events = events;
}

/// Closes `id` if still open and reports it (served connections only).
void control_server::impl::close_conn(uint64_t id) {
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

} // namespace arbor::proto
