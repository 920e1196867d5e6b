// Readiness a sibling cannot answer: who holds a fixed port's listeners
// decides whether an instance's check may count.

#include "probe/own_port.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "../os/loopback_listener.hpp"
#include "os/socket_table.hpp"
#include "probe/prober.hpp"

using namespace arbor;
using namespace arbor::probe;
using arbor::os::test::listen_loopback;

namespace {

os::socket_holder holder(pid_t pid, pid_t pgrp, const char* app, uint64_t gen, uint32_t index,
                         const char* home = "/h") {
  os::socket_holder h;
  h.pid = pid;
  h.pgrp = pgrp;
  if (app) h.id = os::spawn_identity{gen, 0, app, index, home};
  return h;
}

const port_owner me{100, 7, "web", "/h"};

health_check_spec tcp_check(uint16_t port) {
  health_check_spec h;
  h.type = health_check_spec::kind::tcp;
  h.target = "127.0.0.1:" + std::to_string(port);
  h.timeout = std::chrono::milliseconds{2000};
  return h;
}

} // namespace

TEST_CASE("own_port: this instance's group or generation listening is mine") {
  CHECK(classify({holder(101, 100, nullptr, 0, 0)}, me) == port_verdict::mine);
  CHECK(classify({holder(300, 300, "web", 7, 0)}, me) == port_verdict::mine); // a setsid child
  // Mine wins over a sibling listening too (SO_REUSEPORT: both have a row).
  CHECK(classify({holder(200, 200, "web", 6, 1), holder(101, 100, "web", 7, 0)}, me)
        == port_verdict::mine);
}

TEST_CASE("own_port: only siblings listening: their answer does not count") {
  std::string who;
  CHECK(classify({holder(200, 200, "web", 6, 1)}, me, &who) == port_verdict::siblings);
  CHECK(who == "web#1 (pid 200)");
  // The old run of this very instance (a reload's replacement is #0 too).
  CHECK(classify({holder(250, 250, "web", 3, 0)}, me, &who) == port_verdict::siblings);
  CHECK(who == "web#0 (pid 250)");
}

TEST_CASE("own_port: another app, another home, or nobody: the check decides alone") {
  CHECK(classify({}, me) == port_verdict::others);
  CHECK(classify({holder(400, 400, nullptr, 0, 0)}, me) == port_verdict::others); // postgres
  CHECK(classify({holder(401, 401, "db", 9, 0)}, me) == port_verdict::others);
  CHECK(classify({holder(402, 402, "web", 9, 0, "/other")}, me) == port_verdict::others);
}

TEST_CASE("own_port: a check answered by a sibling's socket fails until our own listens") {
  uint16_t port = 0;
  int fd = listen_loopback(port, 0, true);
  REQUIRE(fd >= 0);
  // A sibling: another process group carrying web#1's identity holds the socket.
  auto id = os::identity_entry({0x66, 0, "web", 1, "/h"});
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::setpgid(0, 0);
    char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
    char* envp[] = {id.data(), nullptr};
    ::execve("/bin/sleep", argv, envp);
    ::_exit(127);
  }
  ::close(fd); // only the sibling holds it now
  own_port_rule rule{"127.0.0.1", port, {::getpgrp(), 0x77, "web", "/h"}};
  auto inodes = os::inodes_on(os::read_listening(), "127.0.0.1", port);
  REQUIRE(inodes.size() == 1);
  // Until the child has exec'd, its environment is ours: wait for its identity.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (classify(os::socket_holders(inodes), rule.owner) != port_verdict::siblings
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto r = check_own_port(tcp_check(port), 0, 0, rule);
  CHECK_FALSE(r.ok);
  CHECK(r.detail == "not listening yet: 127.0.0.1:" + std::to_string(port) + " is served by web#1 (pid "
                      + std::to_string(child) + "), not by this instance");
  // A plain check would have passed on the sibling's socket.
  CHECK(run_check(tcp_check(port), 0, 0).ok);
  // For the run that child leads, the same socket is its own.
  own_port_rule led{"127.0.0.1", port, {child, 0x66, "web", "/h"}};
  r = check_own_port(tcp_check(port), 0, 0, led);
  CHECK(r.ok);
  CHECK(r.detail.find("(this instance listens on 127.0.0.1:" + std::to_string(port) + ")")
        != std::string::npos);

  // A port only our own process group listens on: mine, and the detail says so.
  uint16_t again = 0;
  int own = listen_loopback(again);
  REQUIRE(own >= 0);
  own_port_rule mine{"127.0.0.1", again, {::getpgrp(), 0x77, "web", "/h"}};
  r = check_own_port(tcp_check(again), 0, 0, mine);
  CHECK(r.ok);
  CHECK(r.detail == "connected to 127.0.0.1:" + std::to_string(again) + " (this instance listens on 127.0.0.1:"
                      + std::to_string(again) + ")");
  ::close(own);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}
