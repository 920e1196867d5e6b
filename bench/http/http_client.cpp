#include "http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bench_http {

namespace {

constexpr size_t max_header_bytes = 64 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// Parses the status line and headers in `head` (without the final CRLFCRLF).
/// Returns false if it is not HTTP/1.x.
bool parse_head(const std::string& head, int& status, long& content_length, bool& close,
                bool& chunked) {
  if (head.compare(0, 7, "HTTP/1.") != 0 || head.size() < 12) return false;
  bool http10 = head[7] == '0';
  status = std::atoi(head.c_str() + 9);
  if (status < 100 || status > 999) return false;
  content_length = -1;
  close = http10;
  chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, (next == std::string::npos ? head.size() : next) - pos - 2);
    pos = next;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(line.substr(0, colon));
    std::string value = lower(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(" \t"));
    if (name == "content-length") content_length = std::atol(value.c_str());
    else if (name == "connection") {
      if (value.find("close") != std::string::npos) close = true;
      if (value.find("keep-alive") != std::string::npos) close = false;
    } else if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) {
      chunked = true;
    }
  }
  return true;
}

} // namespace

const char* outcome_name(outcome o) {
  switch (o) {
    case outcome::ok: return "ok";
    case outcome::non_200: return "non_200";
    case outcome::connect_refused: return "connect_refused";
    case outcome::connect_reset: return "connect_reset";
    case outcome::connect_timeout: return "connect_timeout";
    case outcome::connect_error: return "connect_error";
    case outcome::reset: return "reset";
    case outcome::closed: return "closed";
    case outcome::stale: return "stale_keepalive";
    case outcome::timeout: return "timeout";
    case outcome::bad_response: return "bad_response";
  }
  return "?";
}

bool parse_ipv4_endpoint(const std::string& text, sockaddr_in& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  out = sockaddr_in{};
  out.sin_family = AF_INET;
  std::string host = text.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  if (::inet_pton(AF_INET, host.c_str(), &out.sin_addr) != 1) return false;
  char* end = nullptr;
  long port = std::strtol(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) return false;
  out.sin_port = htons(static_cast<uint16_t>(port));
  return true;
}

std::string make_get(const std::string& host, const std::string& path, bool close) {
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: bench-http\r\n";
  if (close) r += "Connection: close\r\n";
  return r + "\r\n";
}

void connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  reused_ = false;
  buf_.clear();
}

outcome connection::fail(outcome o, int err) {
  errno_ = err;
  close();
  return o;
}

bool connection::wait(short events, clock_type::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() < 0) return false;
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true; // let the next syscall report it
    if (n == 0 && clock_type::now() >= deadline) return false;
  }
}

outcome connection::connect(clock_type::time_point deadline) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(outcome::connect_error, errno);
  ++connects_;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int err = 0;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to_), sizeof to_) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      if (!wait(POLLOUT, deadline)) return fail(outcome::connect_timeout, ETIMEDOUT);
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }
  if (err == 0) return outcome::ok;
  if (err == ECONNREFUSED) return fail(outcome::connect_refused, err);
  if (err == ECONNRESET) return fail(outcome::connect_reset, err);
  if (err == ETIMEDOUT) return fail(outcome::connect_timeout, err);
  return fail(outcome::connect_error, err);
}

outcome connection::exchange(const std::string& request, clock_type::time_point deadline,
                             response& out) {
  out = response{};
  errno_ = 0;
  if (fd_ < 0) {
    if (auto o = connect(deadline); o != outcome::ok) return o;
  }
  const bool reused = reused_;
  // A failure before any byte of the response on a reused connection is the
  // keep-alive race (the server closed it as we sent): `stale`.
  auto broken = [&](outcome o, int err) {
    return fail(reused && buf_.empty() ? outcome::stale : o, err);
  };
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN) {
      if (!wait(POLLOUT, deadline)) return fail(outcome::timeout, ETIMEDOUT);
    } else if (errno != EINTR) {
      return broken(outcome::reset, errno);
    }
  }
  int status = 0;
  long length = -1;
  bool close = false, chunked = false;
  size_t head_end = std::string::npos;
  char chunk[16384];
  for (;;) {
    if (head_end == std::string::npos) {
      auto p = buf_.find("\r\n\r\n");
      if (p != std::string::npos) {
        head_end = p + 4;
        if (!parse_head(buf_.substr(0, p), status, length, close, chunked) || chunked)
          return fail(outcome::bad_response, 0);
        if (length < 0 && !close) length = 0; // no body (204/304-like)
      } else if (buf_.size() > max_header_bytes) {
        return fail(outcome::bad_response, 0);
      }
    }
    if (head_end != std::string::npos && length >= 0
        && buf_.size() >= head_end + static_cast<size_t>(length)) {
      out.body = buf_.substr(head_end, static_cast<size_t>(length));
      buf_.erase(0, head_end + static_cast<size_t>(length));
      break;
    }
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      if (head_end != std::string::npos && length < 0) { // body delimited by close
        out.body = buf_.substr(head_end);
        buf_.clear();
        close = true;
        break;
      }
      return broken(outcome::closed, 0);
    } else if (errno == EAGAIN) {
      if (!wait(POLLIN, deadline)) return fail(outcome::timeout, ETIMEDOUT);
    } else if (errno != EINTR) {
      return broken(outcome::reset, errno);
    }
  }
  reused_ = true;
  out.status = status;
  out.close = close;
  return status == 200 ? outcome::ok : outcome::non_200;
}

outcome get_once(const sockaddr_in& to, const std::string& path, clock_type::time_point deadline,
                 response* out) {
  char host[INET_ADDRSTRLEN] = "";
  ::inet_ntop(AF_INET, &to.sin_addr, host, sizeof host);
  connection c{to};
  response r;
  auto o = c.exchange(make_get(std::string{host} + ":" + std::to_string(ntohs(to.sin_port)), path, true),
                      deadline, r);
  if (out) *out = std::move(r);
  return o;
}

} // namespace bench_http
