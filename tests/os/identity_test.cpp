// A spawn's identity in its environment, read back from /proc.

#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "os/identity.hpp"
#include "os/spawn.hpp"
#include "os/terminate.hpp"

using namespace arbor::os;

TEST_CASE("identity: the entry parses back, malformed values are refused") {
  spawn_identity id{0x1234, 0xfeedbeef, "web.api", 12, "/var/lib/a#b@c"};
  auto e = identity_entry(id);
  CHECK(e.rfind("ARBOR_ID=0000000000001234:00000000feedbeef:web.api#12@", 0) == 0);
  auto back = parse_identity(std::string_view{e}.substr(identity_key.size() + 1));
  REQUIRE(back);
  CHECK(*back == id);
  for (auto bad : {"", "00000000000012:0000000000000000:a#1@h", "000000000000001g:0000000000000000:a#1@h",
                   "0000000000000001:0000000000000000:#1@h", "0000000000000001:0000000000000000:a#@h",
                   "0000000000000001:0000000000000000:a1@h", "0000000000000001:0000000000000000:a#x@h",
                   "0000000000000001:0000000000000000:a#99999999999@h"})
    CHECK_FALSE(parse_identity(bad));
}

TEST_CASE("identity: a spawn carries its generation, the home scan finds it, not other homes") {
  auto home = "/tmp/arbor-identity-test-" + std::to_string(::getpid());
  spawn_plan plan{"/bin/sleep", {"sleep", "30"},
                  std::make_shared<const std::vector<std::string>>(
                    std::vector<std::string>{"PATH=/usr/bin:/bin"}),
                  {identity_entry({0, 5, "app", 3, home})}, ""};
  plan.set_generation(41);
  auto a = plan.spawn(-1, -1);
  plan.set_generation(42);
  auto b = plan.spawn(-1, -1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // The spawn returns once the child's execve has released our memory, a
  // moment before the kernel has set up its new environment: look again.
  auto found = scan_home(home);
  for (int i = 0; i < 250 && found.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    found = scan_home(home);
  }
  std::map<pid_t, uint64_t> gens;
  for (auto& p : found) gens[p.pid] = p.id.generation;
  CHECK(gens == std::map<pid_t, uint64_t>{{a.pid, 41}, {b.pid, 42}});
  for (auto& p : found) {
    CHECK(p.id.app == "app");
    CHECK(p.id.index == 3);
    CHECK(p.id.spec_hash == 5);
    CHECK(p.pgrp == p.pid);
  }
  CHECK(scan_home(home + "x").empty());
  // Our children of one generation, the watched ones skipped.
  auto of41 = children_of_generation(home, 41, {});
  REQUIRE(of41.size() == 1);
  CHECK(of41[0].pid == a.pid);
  CHECK(children_of_generation(home, 41, {a.pid}).empty());
  // terminate: the signal, then gone.
  terminate({{a.pid, of41[0].start}}, SIGTERM, std::chrono::seconds(5), false);
  int status = 0;
  REQUIRE(::waitpid(a.pid, &status, 0) == a.pid);
  CHECK(WIFSIGNALED(status));
  ::kill(b.pid, SIGKILL);
  ::waitpid(b.pid, nullptr, 0);
  CHECK(scan_home(home).empty()); // reaped: gone
}

TEST_CASE("identity: terminate SIGKILLs what ignores the signal after the grace, waiting") {
  auto home = "/tmp/arbor-identity-kill-" + std::to_string(::getpid());
  spawn_plan plan{"/bin/sh", {"sh", "-c", "trap '' TERM; while :; do sleep 1; done"},
                  std::make_shared<const std::vector<std::string>>(
                    std::vector<std::string>{"PATH=/usr/bin:/bin"}),
                  {identity_entry({1, 0, "stubborn", 0, home})}, ""};
  auto r = plan.spawn(-1, -1);
  REQUIRE(r.ok());
  std::vector<marked_process> found;
  // The shell has set its trap once it has started its first sleep.
  for (int i = 0; i < 250 && found.size() < 2; ++i) {
    found = scan_home(home);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(found.size() == 2);
  std::vector<proc_ref> refs;
  for (auto& p : found) refs.push_back({p.pid, p.start});
  std::thread reaper([&] { ::waitpid(r.pid, nullptr, 0); });
  auto t0 = std::chrono::steady_clock::now();
  terminate(refs, SIGTERM, std::chrono::milliseconds(300), true);
  auto took = std::chrono::steady_clock::now() - t0;
  reaper.join();
  CHECK(took >= std::chrono::milliseconds(300));
  for (auto& p : refs) CHECK_FALSE(alive(p));
}
