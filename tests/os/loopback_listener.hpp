#pragma once

// A listening TCP socket on 127.0.0.1 for tests that read the kernel's
// socket tables (os_tests, probe_tests).

#include <cstdint>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace arbor::os::test {

/// Listens on 127.0.0.1:`on` (0: any free port) with SO_REUSEPORT; the port
/// in `port`. `inherited`: without CLOEXEC, for a child to hold. -1 on failure.
inline int listen_loopback(uint16_t& port, uint16_t on = 0, bool inherited = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM | (inherited ? 0 : SOCK_CLOEXEC), 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(on);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

} // namespace arbor::os::test
