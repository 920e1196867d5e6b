#include "sockets.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace example {

listener_handle::~listener_handle() { release(); }

void listener_handle::adopt(int sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (mode_ == share_mode::reuse_port)
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  int dup = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
  std::lock_guard<std::mutex> lock{mtx_};
  if (fd_ >= 0) ::close(fd_);
  fd_ = dup;
  if (shut_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void listener_handle::release() {
  std::lock_guard<std::mutex> lock{mtx_};
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool listener_handle::set_backlog(int backlog) {
  std::lock_guard<std::mutex> lock{mtx_};
  return fd_ >= 0 && ::listen(fd_, backlog) == 0;
}

void listener_handle::shutdown() {
  std::lock_guard<std::mutex> lock{mtx_};
  if (shut_) return;
  shut_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

bool notify(const std::string& state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || (name[0] != '/' && name[0] != '@')) return false;
  size_t len = std::strlen(name);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  bool abstract = name[0] == '@';
  // A path needs its NUL; an abstract name is exactly its bytes, '@' → '\0'.
  if (len + (abstract ? 0 : 1) > sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return false;
  }
  std::memcpy(addr.sun_path, name, len);
  if (abstract) addr.sun_path[0] = '\0';
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + (abstract ? 0 : 1));
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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

} // namespace example
