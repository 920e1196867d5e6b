#include "proto/client.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace arbor::proto {

namespace {

using clock_type = std::chrono::steady_clock;

/// Longest reply line we buffer before calling it garbage.
constexpr size_t max_reply_line = 64u << 20;

std::string no_daemon(const std::string& path, const char* why) {
  return std::string{"no arbor daemon is running ("} + why + " at " + path
         + "); start one with `arbor up`";
}

std::string connect_error(const std::string& path, int err) {
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  switch (err) {
    case ENOENT: return no_daemon(path, "no socket");
    case ECONNREFUSED:
      // connect() to a regular file is refused too: say what is there instead.
      if (exists && !S_ISSOCK(st.st_mode))
        return path + " is not a socket (is ARBOR_HOME right?)";
      return no_daemon(path, "stale socket");
    case EACCES:
    case EPERM:
      if (exists)
        return "permission denied on " + path + " (owned by uid " + std::to_string(st.st_uid)
               + ")";
      return "permission denied on " + path;
    default: return "cannot connect to " + path + ": " + std::strerror(err);
  }
}

/// Milliseconds left until `deadline` for poll(); -1 waits forever.
int remaining_ms(bool forever, clock_type::time_point deadline) {
  if (forever)
    return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

/// A line quoted for an error message, shortened.
std::string quote(std::string_view line) {
  constexpr size_t max_shown = 80;
  bool cut = line.size() > max_shown;
  std::string shown = nlohmann::json(std::string{line.substr(0, max_shown)})
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return cut ? shown + "..." : shown;
}

} // namespace

std::unique_ptr<client> client::connect(const std::string& socket_path, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    error = "socket path must be 1 to " + std::to_string(sizeof addr.sun_path - 1)
            + " bytes long: '" + socket_path + "'";
    return nullptr;
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string{"cannot create a socket: "} + std::strerror(errno);
    return nullptr;
  }
  int rc;
  do
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    error = connect_error(socket_path, err);
    return nullptr;
  }
  // Nothing is sent to a server that is not us or root: anyone who can put
  // a socket at this path could otherwise read our requests and answer them.
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0
      || (cred.uid != ::geteuid() && cred.uid != 0)) {
    error = "refusing the daemon at " + socket_path + ": it runs as uid "
            + std::to_string(cred.uid) + ", not as you (uid " + std::to_string(::geteuid())
            + ") or root; check who owns ARBOR_HOME and stop that process";
    ::close(fd);
    return nullptr;
  }
  // Non-blocking from here on: every wait is a poll() with a timeout.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    error = std::string{"cannot set up the connection: "} + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<client> c{new client()};
  c->fd_ = fd;
  return c;
}

client::~client() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::optional<response> client::call(request req, std::string& error, int timeout_ms,
                                     const std::function<bool(const nlohmann::json&)>& on_item) {
  const bool forever = timeout_ms < 0;
  auto fail = [&](std::string why) -> std::optional<response> {
    error = std::move(why);
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
    inbuf_.clear();
    return std::nullopt;
  };
  auto timed_out = [&] {
    return fail("timed out after " + std::to_string(timeout_ms) + " ms waiting for the daemon");
  };
  if (fd_ < 0)
    return fail("the connection to the daemon is closed");

  req.id = next_id_++;
  const std::string line = encode_request(req);

  // Write the request. If the daemon hangs up meanwhile, still read what it
  // sent: it may say why (too_large, forbidden).
  size_t sent = 0;
  auto deadline = clock_type::now() + std::chrono::milliseconds(forever ? 0 : timeout_ms);
  while (sent < line.size()) {
    ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno == EPIPE || errno == ECONNRESET)
      break;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return fail(std::string{"cannot write to the daemon: "} + std::strerror(errno));
    pollfd p{fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, remaining_ms(forever, deadline));
    if (r < 0 && errno != EINTR)
      return fail(std::string{"cannot wait for the daemon: "} + std::strerror(errno));
    if (r == 0)
      return timed_out();
  }

  // Read replies until ours is final. An error with id 0 is ours as well: the
  // daemon could not read our id (too_large, forbidden, a garbled line), and
  // we have only one request in flight.
  deadline = clock_type::now() + std::chrono::milliseconds(forever ? 0 : timeout_ms);
  size_t scanned = 0;
  for (;;) {
    size_t nl = inbuf_.find('\n', scanned);
    if (nl == std::string::npos) {
      scanned = inbuf_.size();
      if (inbuf_.size() > max_reply_line)
        return fail("garbage from the daemon: a reply line longer than "
                    + std::to_string(max_reply_line) + " bytes");
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, remaining_ms(forever, deadline));
      if (r < 0) {
        if (errno == EINTR)
          continue;
        return fail(std::string{"cannot wait for the daemon: "} + std::strerror(errno));
      }
      if (r == 0)
        return timed_out();
      char buf[64 * 1024];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        inbuf_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (n == 0 || errno == ECONNRESET || errno == EPIPE)
        return fail("the daemon closed the connection");
      return fail(std::string{"cannot read from the daemon: "} + std::strerror(errno));
    }

    std::string_view text{inbuf_.data(), nl};
    if (!text.empty() && text.back() == '\r')
      text.remove_suffix(1);
    std::string why;
    auto resp = decode_response(text, why);
    if (!resp)
      return fail("garbage from the daemon: " + why + ": " + quote(text));
    inbuf_.erase(0, nl + 1);
    scanned = 0;
    deadline = clock_type::now() + std::chrono::milliseconds(forever ? 0 : timeout_ms);

    bool ours = resp->id == req.id || (resp->id == 0 && resp->type == response::kind::error);
    if (!ours)
      continue; // a late reply to an earlier call that gave up
    if (resp->type != response::kind::item)
      return resp;
    bool more = true;
    if (on_item) {
      try {
        more = on_item(resp->result);
      } catch (...) {
        // The caller's own exception goes back to it, but never leaves us
        // half-way through a stream: the connection ends here.
        ::close(fd_);
        fd_ = -1;
        inbuf_.clear();
        throw;
      }
    }
    if (!more) {
      // Stop the stream: the daemon learns of it when the connection closes.
      ::close(fd_);
      fd_ = -1;
      inbuf_.clear();
      response done;
      done.id = req.id;
      done.type = response::kind::ok;
      done.result = nlohmann::json::object();
      return done;
    }
  }
}

} // namespace arbor::proto
