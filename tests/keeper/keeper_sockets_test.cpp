// Listening sockets held by the keeper (hold_socket): kept open while no
// daemon runs (clients are queued, not refused), the very same socket handed
// back at the next hello, forgotten at release_socket.

#include <catch2/catch.hpp>

#include "fake_daemon.hpp"
#include "../helpers/loopback.hpp"

#include <memory>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace arbor::keeper;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;
using arbor::test::connects;
using arbor::test::listen_loopback;

namespace {

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
  int sock = listen_loopback(0, &port);
  REQUIRE(sock >= 0);
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
  // Released: the keeper closes its copy (ours is closed), nobody listens.
  // Asked of the kernel, which nothing notifies us about: polled.
  bool refused = false;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       !(refused = !connects(port)) && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(10ms);
  CHECK(refused);
  // Nothing held now: a daemon's death would let the keeper exit; bye ends it.
  REQUIRE(d2.bye(err));
  CHECK(k->wait_status(5s) == 0);
}
