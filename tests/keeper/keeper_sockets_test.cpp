// Listening sockets held by the keeper (hold_socket): kept open while no
// daemon runs (clients are queued, not refused), the very same socket handed
// back at the next hello, forgotten at release_socket.

#include <catch2/catch.hpp>

#include "fake_daemon.hpp"

#include <memory>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace arbor::keeper;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;

namespace {

/// A socket listening on a free loopback port; its port in `port`.
int listening_socket(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 16) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

bool connects(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

ino_t inode_of(int fd) {
  struct stat st{};
  ::fstat(fd, &st);
  return st.st_ino;
}

} // namespace

TEST_CASE("keeper: a held listening socket outlives the daemon and comes back the same") {
  temp_dir home;
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  uint16_t port = 0;
  int sock = listening_socket(port);
  const ino_t inode = inode_of(sock);
  std::string err;
  pipe_pair p;
  CHECK_FALSE(d1.hold_socket("web 127.0.0.1:1", p.r, err)); // not a socket
  REQUIRE(d1.hold_socket("web 127.0.0.1:" + std::to_string(port), sock, err));
  ::close(sock);
  d1.close(); // the daemon dies: only the keeper holds the socket now
  CHECK(connects(port)); // queued in the backlog, not refused

  keeper_client d2;
  start_daemon(d2, home.path, k); // the same keeper: it did not leave
  auto socks = d2.take_sockets();
  REQUIRE(socks.size() == 1);
  CHECK(socks[0].id == "web 127.0.0.1:" + std::to_string(port));
  CHECK(inode_of(socks[0].fd) == inode);
  ::close(socks[0].fd);
  CHECK(d2.take_sockets().empty()); // taken once

  REQUIRE(d2.release_socket(socks[0].id, err));
  d2.close();
  keeper_client d3;
  start_daemon(d3, home.path, k);
  CHECK(d3.take_sockets().empty());
  CHECK_FALSE(connects(port)); // nobody holds it any more
  REQUIRE(d3.bye(err));
  CHECK(k->wait_status(5s) == 0);
}
