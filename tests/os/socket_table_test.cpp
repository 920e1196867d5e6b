// The kernel's listening-socket tables, parsed from sample text and read
// live, and the processes holding a socket.

#include <catch2/catch.hpp>

#include <algorithm>

#include <unistd.h>

#include "loopback_listener.hpp"
#include "os/port_holders.hpp"
#include "os/socket_table.hpp"

using namespace arbor::os;
using arbor::os::test::listen_loopback;

namespace {

// As the kernel prints them (x86-64, little-endian words).
const char* tcp4 =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
  "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4711 1 0 100 0 0 10 0\n"
  "   1: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4712 1 0 100 0 0 10 0\n"
  "   2: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4713 1 0 20 4 30 10 -1\n"
  "   3: 0200007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0 100 0 0 10 0\n"
  "   4: garbage\n";

const char* tcp6 =
  "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
  "   0: 00000000000000000000000001000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5001 1 0 100 0 0 10 0\n"
  "   1: 00000000000000000000000000000000:1F41 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5002 1 0 100 0 0 10 0\n"
  "   2: 0000000000000000FFFF00000100007F:1F42 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5003 1 0 100 0 0 10 0\n";

ip_address ip(const char* text) {
  auto a = parse_ip(text);
  REQUIRE(a);
  return *a;
}

} // namespace

TEST_CASE("socket_table: LISTEN rows of tcp are parsed, other states and garbage skipped") {
  auto rows = parse_listening(tcp4, false);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].address == ip("127.0.0.1"));
  CHECK(rows[0].port == 8000);
  CHECK(rows[0].inode == 4711);
  CHECK(rows[1].address == ip("0.0.0.0"));
  CHECK(rows[2].address == ip("127.0.0.2"));
  CHECK(rows[2].port == 80);
  CHECK(parse_listening("", false).empty());
  CHECK(parse_listening("   0: 0100007F:1F40 00000000:0000 0A", false).empty()); // no inode
}

TEST_CASE("socket_table: tcp6 rows: ::1, ::, and v4-mapped equal to the v4 address") {
  auto rows = parse_listening(tcp6, true);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].address == ip("::1"));
  CHECK(rows[0].port == 8000);
  CHECK(rows[1].address == ip("::"));
  CHECK(rows[2].address == ip("::ffff:127.0.0.1"));
  CHECK(rows[2].address == ip("127.0.0.1")); // v4 is held v4-mapped
  CHECK(parse_listening(tcp6, false).empty()); // v6 rows do not parse as v4
}

TEST_CASE("socket_table: which listeners a check of a host reaches") {
  auto rows = parse_listening(tcp4, false);
  auto v6 = parse_listening(tcp6, true);
  rows.insert(rows.end(), v6.begin(), v6.end());
  CHECK(inodes_on(rows, "127.0.0.1", 8000) == std::vector<uint64_t>{4711, 4712});
  CHECK(inodes_on(rows, "::1", 8000) == std::vector<uint64_t>{4712, 5001});
  CHECK(inodes_on(rows, "localhost", 8000) == std::vector<uint64_t>{4711, 4712, 5001});
  CHECK(inodes_on(rows, "10.1.2.3", 8000) == std::vector<uint64_t>{4712}); // the wildcard
  CHECK(inodes_on(rows, "127.0.0.1", 8002) == std::vector<uint64_t>{5003}); // v4-mapped
  CHECK(inodes_on(rows, "example.internal", 80) == std::vector<uint64_t>{99}); // a name: any
  CHECK(inodes_on(rows, "127.0.0.1", 80).empty());
  CHECK(inodes_on(rows, "::1", 8001) == std::vector<uint64_t>{5002});
  CHECK_FALSE(parse_ip("localhost"));
  CHECK_FALSE(parse_ip("[::1]"));
}

TEST_CASE("socket_table: many rows, one port's listeners among them") {
  // 5000 rows: every 100th listens; ports cycle over 8000..8006.
  std::string text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
  std::vector<uint64_t> want;
  char line[200];
  for (int i = 0; i < 5000; ++i) {
    bool listening = i % 100 == 0;
    int port = 8000 + i % 7;
    std::snprintf(line, sizeof line,
                  "%5d: 0100007F:%04X 0100007F:D431 %s 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0 100 0 0 10 0\n",
                  i, port, listening ? "0A" : "01", 10000 + i);
    text += line;
    if (listening && port == 8000) want.push_back(static_cast<uint64_t>(10000 + i));
  }
  auto rows = parse_listening(text, false);
  CHECK(rows.size() == 50);
  REQUIRE(want.size() == 8);
  CHECK(inodes_on(rows, "127.0.0.1", 8000) == want);
}

TEST_CASE("socket_table: a live listening socket is in the table and held by us") {
  uint16_t port = 0;
  int fd = listen_loopback(port);
  REQUIRE(fd >= 0);
  auto inodes = inodes_on(read_listening(), "127.0.0.1", port);
  REQUIRE(inodes.size() == 1);
  CHECK(held_sockets(::getpid(), inodes) == inodes);
  CHECK(held_sockets(::getpid(), {inodes[0] + 1}).empty());
  // A second SO_REUSEPORT listener on the same port: its own row and inode.
  uint16_t same = 0;
  int fd2 = listen_loopback(same, port);
  REQUIRE(fd2 >= 0);
  REQUIRE(same == port);
  auto both = inodes_on(read_listening(), "127.0.0.1", port);
  CHECK(both.size() == 2);
  auto holders = socket_holders(both);
  REQUIRE(holders.size() == 1);
  CHECK(holders[0].pid == ::getpid());
  CHECK(holders[0].pgrp == ::getpgrp());
  ::close(fd);
  ::close(fd2);
  CHECK(inodes_on(read_listening(), "127.0.0.1", port).empty());
  CHECK(socket_holders({}).empty());
}
