#include "os/port_share.hpp"

#include <cerrno>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace arbor::os {

namespace {

enum class bound { yes, no, no_family };

bound try_bind(int family, uint16_t port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno == EAFNOSUPPORT ? bound::no_family : bound::no;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  int rc = -1;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    // Only the IPv6 side: the IPv4 one is probed on its own.
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_any;
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  int err = errno;
  ::close(fd);
  if (rc == 0) return bound::yes;
  return err == EADDRNOTAVAIL || err == EAFNOSUPPORT ? bound::no_family : bound::no;
}

} // namespace

bool port_shareable(uint16_t port) {
  if (port == 0) return true;
  if (try_bind(AF_INET, port) != bound::yes) return false;
  return try_bind(AF_INET6, port) != bound::no;
}

} // namespace arbor::os
