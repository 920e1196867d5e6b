#include "os/listen_address.hpp"

#include <cctype>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

namespace arbor::os {

namespace {

constexpr std::string_view unix_prefix = "unix:";

bool numeric_v4(const std::string& h) {
  in_addr a{};
  return ::inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool numeric_v6(const std::string& h) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

/// `text` as a number of at most `max_len` digits in `base` (8 or 10).
std::optional<uint32_t> parse_digits(std::string_view text, uint32_t base, size_t max_len) {
  if (text.empty() || text.size() > max_len) return std::nullopt;
  uint32_t n = 0;
  for (char c : text) {
    if (c < '0' || c >= static_cast<char>('0' + base)) return std::nullopt;
    n = n * base + static_cast<uint32_t>(c - '0');
  }
  return n;
}

std::optional<uint16_t> parse_port(std::string_view p) {
  auto n = parse_digits(p, 10, 5);
  if (!n || *n == 0 || *n > 65535) return std::nullopt;
  return static_cast<uint16_t>(*n);
}

} // namespace

std::string listen_address::canonical() const {
  if (type == kind::unix_path) return std::string{unix_prefix} + path;
  if (host.empty()) return ":" + std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool listen_address::collides_with(const listen_address& o) const {
  if (type != o.type) return false;
  if (type == kind::unix_path) return path == o.path;
  return port == o.port && (host == o.host || host.empty() || o.host.empty());
}

std::optional<listen_address> parse_listen_address(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string{text} + "'";
  listen_address a;
  if (text.substr(0, unix_prefix.size()) == unix_prefix) {
    a.type = listen_address::kind::unix_path;
    a.path = std::string{text.substr(unix_prefix.size())};
    if (a.path.empty() || a.path.front() != '/') {
      error = quoted + ": a unix socket needs an absolute path (\"unix:/run/app.sock\")";
      return std::nullopt;
    }
    if (a.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      error = quoted + ": the path is longer than a unix socket allows ("
              + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes)";
      return std::nullopt;
    }
    if (a.path.find('\0') != std::string::npos) {
      error = quoted + ": the path holds a NUL byte";
      return std::nullopt;
    }
    return a;
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = quoted + " is not \"host:port\", \":port\" or \"unix:/path\"";
    return std::nullopt;
  }
  auto host = text.substr(0, colon);
  auto port = parse_port(text.substr(colon + 1));
  if (!port) {
    error = quoted + ": '" + std::string{text.substr(colon + 1)}
            + "' is not a port number (1-65535)";
    return std::nullopt;
  }
  a.port = *port;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    a.host = std::string{host.substr(1, host.size() - 2)};
    if (!numeric_v6(a.host)) {
      error = quoted + ": '" + a.host + "' is not an IPv6 address";
      return std::nullopt;
    }
    return a;
  }
  a.host = std::string{host};
  if (!a.host.empty() && !numeric_v4(a.host)) {
    error = numeric_v6(a.host)
              ? quoted + ": write an IPv6 address in brackets (\"[" + a.host + "]:"
                  + std::to_string(a.port) + "\")"
              : quoted + ": the host must be a numeric address (127.0.0.1, [::1]) or empty for "
                  "every address (\":" + std::to_string(a.port) + "\")";
    return std::nullopt;
  }
  return a;
}

std::optional<uint32_t> parse_socket_mode(std::string_view text) {
  auto m = parse_digits(text, 8, 5);
  if (!m || *m > 07777) return std::nullopt;
  return m;
}

bool valid_socket_owner(std::string_view owner) {
  auto ok_name = [](std::string_view n) {
    if (n.empty() || n.size() > 64) return false;
    for (char c : n)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
        return false;
    return true;
  };
  auto colon = owner.find(':');
  if (colon == std::string_view::npos) return ok_name(owner);
  return ok_name(owner.substr(0, colon)) && ok_name(owner.substr(colon + 1));
}

bool valid_fd_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

} // namespace arbor::os
