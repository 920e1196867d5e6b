#include "web_auth.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::detail {

namespace {

std::string header(const http::request& q, const char* name) {
  auto it = q.headers.find(name);
  return it == q.headers.end() ? std::string{} : it->second;
}

/// Compares in time independent of where they differ.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool host_allowed(const web_access& a, const std::string& host) {
  if (!a.loopback) return true; // any name of the machine; the token guards every request
  auto port = ":" + std::to_string(a.port);
  for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
    if (host == name + port) return true;
  return host == a.host + port || host == "[" + a.host + "]" + port;
}

std::string first_line(const std::string& path, std::string& err) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    err = path + ": cannot read" + (errno ? std::string{": "} + std::strerror(errno) : "");
    return {};
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string generate(const std::string& path, std::string& err) {
  unsigned char bytes[32];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    err = std::string{"getrandom: "} + std::strerror(errno);
    return {};
  }
  static const char hex[] = "0123456789abcdef";
  std::string token;
  for (auto b : bytes) token += {hex[b >> 4], hex[b & 15]};
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    err = path + ": cannot create: " + std::strerror(errno);
    return {};
  }
  auto text = token + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) {
    err = path + ": cannot write";
    ::unlink(path.c_str());
    return {};
  }
  return token;
}

} // namespace

bool is_read_command(const std::string& cmd) {
  return cmd == "ping" || cmd == "status" || cmd == "tree" || cmd == "show" || cmd == "logs"
         || cmd == "events";
}

std::optional<refusal> check_access(const web_access& a, const http::request& q, bool action) {
  auto host = header(q, "host");
  if (!host_allowed(a, host))
    return refusal{403, "forbidden", "Host '" + host + "' is not this dashboard's address"};
  auto origin = header(q, "origin");
  if (q.headers.count("origin") && origin != "http://" + host)
    return refusal{403, "forbidden", "cross-origin request from '" + origin + "' refused"};
  if (action && a.read_only)
    return refusal{403, "forbidden", "read-only dashboard ([web] read_only = true)"};
  if (!action && a.loopback) return std::nullopt;
  auto given = header(q, token_header);
  if (given.empty())
    return refusal{401, "unauthorized", std::string{"missing token: send it in the X-Arbor-Token "
                                                    "header"}};
  if (!same_secret(given, a.token)) return refusal{401, "unauthorized", "wrong token"};
  return std::nullopt;
}

std::string load_token(const std::string& token_file, const std::string& home, std::string& err) {
  errno = 0;
  std::string token;
  if (!token_file.empty()) {
    token = first_line(token_file, err);
  } else {
    auto path = home + "/web.token";
    struct stat st{};
    token = ::lstat(path.c_str(), &st) == 0 ? first_line(path, err) : generate(path, err);
  }
  if (!err.empty()) return {};
  if (token.size() < 16) {
    err = (token_file.empty() ? home + "/web.token" : token_file)
          + ": the token must be at least 16 characters";
    return {};
  }
  return token;
}

} // namespace arbor::detail
