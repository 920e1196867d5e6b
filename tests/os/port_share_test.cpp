// os::port_shareable: can a reload's replacement bind its instance's port
// beside the run holding it?

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback_listener.hpp"
#include "os/port_share.hpp"

using namespace arbor;

namespace {

/// Listens on `port` of the IPv6 wildcard (dual stack unless `v6only`),
/// without SO_REUSEPORT. -1 on failure.
int listen_v6_alone(uint16_t port, bool v6only) {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int flag = v6only ? 1 : 0;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &flag, sizeof flag);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

TEST_CASE("port_shareable: a free port, and one held with SO_REUSEPORT, can be shared") {
  uint16_t port = 0;
  int fd = os::test::listen_loopback(port); // SO_REUSEPORT, this user
  REQUIRE(fd >= 0);
  CHECK(os::port_shareable(port));
  ::close(fd);
  CHECK(os::port_shareable(port)); // nobody holds it now
}

TEST_CASE("port_shareable: a listener without SO_REUSEPORT cannot be shared, on any address") {
  uint16_t port = 0;
  int probe = os::test::listen_loopback(port); // only to find a free port
  REQUIRE(probe >= 0);
  ::close(probe);

  int v4 = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(v4, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(v4, 8) == 0);
  CHECK_FALSE(os::port_shareable(port)); // 127.0.0.1 only, alone
  ::close(v4);

  for (bool v6only : {false, true}) {
    INFO("IPv6 wildcard, v6only=" << v6only);
    int v6 = listen_v6_alone(port, v6only);
    if (v6 < 0) continue; // no IPv6 on this host: the IPv4 case above stands
    CHECK_FALSE(os::port_shareable(port));
    ::close(v6);
  }
  CHECK(os::port_shareable(port));
}
