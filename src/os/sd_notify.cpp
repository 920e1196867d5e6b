#include "os/sd_notify.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace arbor::os {

namespace {

bool send_to(const char* name, size_t len, const std::string& state) noexcept {
  if (len == 0 || (name[0] != '/' && name[0] != '@')) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // A path needs room for its NUL; an abstract name is exactly its bytes.
  if (len + (name[0] == '/' ? 1 : 0) > sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, name, len);
  if (name[0] == '@') addr.sun_path[0] = '\0';
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len
                                         + (name[0] == '/' ? 1 : 0));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), addr_len);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == static_cast<ssize_t>(state.size());
}

} // namespace

bool sd_notify(const std::string& socket, const std::string& state) noexcept {
  return send_to(socket.data(), socket.size(), state);
}

bool sd_notify(const std::string& state) noexcept {
  const char* name = std::getenv("NOTIFY_SOCKET");
  return name != nullptr && send_to(name, std::strlen(name), state);
}

std::string take_notify_socket() {
  const char* name = std::getenv("NOTIFY_SOCKET");
  std::string out = name ? name : "";
  ::unsetenv("NOTIFY_SOCKET");
  return out;
}

} // namespace arbor::os
