// Apps that ignore SIGTERM, with a grandchild in their process group that
// ignores it too: `stop` and `down` SIGKILL the whole group after
// kill_timeout and say so; nothing is left.

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <sstream>
#include <unistd.h>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

/// `sh -c` command: a grandchild ignoring SIGTERM in the background (same
/// process group: no job control), its pid to `pidfile`, then `leader`.
std::string with_stubborn_grandchild(const std::string& pidfile, const std::string& leader) {
  const std::string child = ARBOR_TEST_CHILD;
  return "command = \"" + child + " ignore-term & echo $! > " + pidfile + "; exec " + child + " "
         + leader + "\"\nshell = true\n";
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// Events of `who` from `events --json` (JSON lines).
std::vector<nlohmann::json> events_of(const fault_daemon& fd, const std::string& who) {
  auto r = fd.cli({"events", "-n", "200", "--json"});
  REQUIRE(r.rc == 0);
  std::vector<nlohmann::json> out;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    auto e = nlohmann::json::parse(l);
    if (e["offender"] == who) out.push_back(e);
  }
  return out;
}

ms time_of(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - t0);
}

} // namespace

TEST_CASE("fault: an app and its grandchild ignoring SIGTERM are SIGKILLed after kill_timeout") {
  fault_daemon fd;
  auto gpidfile = fd.file("g.pid");
  auto outlog = fd.home + "/logs/stubborn.out.log";
  fd.up("[stubborn]\n" + with_stubborn_grandchild(gpidfile, "ignore-term")
        + "kill_timeout = 600\n" + fd.app_env() + "[calm]\nargs = " + child_args({"sleep"})
        + "\n" + fd.app_env());
  auto calm_pid = fd.instance("calm#0")["pid"].get<int>();

  // Both have set SIG_IGN once both said "ready".
  auto ready = [&](size_t n) {
    return wait_until([&] { return count_of(slurp(outlog), "stubborn#0 | ready\n") >= n; });
  };
  REQUIRE(ready(2));
  int leader = fd.instance("stubborn#0")["pid"].get<int>();
  int grandchild = std::stoi(wait_file(gpidfile));
  REQUIRE(::getpgid(grandchild) == leader);

  // stop: SIGTERM is ignored by both; after kill_timeout SIGKILL to the group.
  cli_result stop;
  auto took = time_of([&] { stop = fd.cli({"stop", "stubborn"}, 15s); });
  INFO(stop.err);
  REQUIRE(stop.rc == 0);
  CHECK(took >= 600ms);
  CHECK(took < 3600ms);
  CHECK(wait_gone(leader, 1s));
  CHECK(wait_gone(grandchild, 1s));
  auto st = fd.instance("stubborn#0");
  CHECK(st["state"] == "stopped");
  CHECK(st["pid"] == 0);
  CHECK(st["last_exit"].get<std::string>().find("signal(SIGKILL)") != std::string::npos);
  // Events reach `arbor events` through the bus, asynchronously: wait.
  CHECK(eventually([&] {
    for (auto& e : events_of(fd, "stubborn#0"))
      if (e["event"] == "killed"
          && e["reason"].get<std::string>().find("kill_timeout (600ms)") != std::string::npos)
        return true;
    return false;
  }, 5s));
  CHECK(fd.instance("calm#0")["pid"] == calm_pid);

  // down: the same escalation, and nothing of either run is left.
  std::remove(gpidfile.c_str());
  REQUIRE(fd.cli({"start", "stubborn"}).rc == 0);
  REQUIRE(ready(4));
  leader = fd.instance("stubborn#0")["pid"].get<int>();
  grandchild = std::stoi(wait_file(gpidfile));
  took = time_of([&] { fd.down_and_check_clean(); });
  CHECK(took >= 600ms);
  CHECK(wait_gone(leader, 1s));
  CHECK(wait_gone(grandchild, 1s));
}

TEST_CASE("fault: the leader obeys SIGTERM, its grandchild ignores it: stop is quick, nothing left") {
  fault_daemon fd;
  auto gpidfile = fd.file("g.pid");
  fd.up("[half]\n" + with_stubborn_grandchild(gpidfile, "sleep") + "kill_timeout = 5000\n"
        + fd.app_env());
  int grandchild = std::stoi(wait_file(gpidfile));
  int leader = fd.instance("half#0")["pid"].get<int>();
  REQUIRE(::getpgid(grandchild) == leader);
  REQUIRE(wait_until([&] {
    return slurp(fd.home + "/logs/half.out.log").find("half#0 | ready") != std::string::npos;
  }));
  // The leader dies of SIGTERM at once; the exit watcher SIGKILLs what is
  // left of its group before reaping it: no wait for kill_timeout.
  cli_result stop;
  auto took = time_of([&] { stop = fd.cli({"stop", "half"}, 15s); });
  REQUIRE(stop.rc == 0);
  CHECK(took < 2500ms);
  CHECK(wait_gone(grandchild, 1s));
  auto st = fd.instance("half#0");
  CHECK(st["state"] == "stopped");
  CHECK(st["last_exit"].get<std::string>().find("signal(SIGTERM)") != std::string::npos);
  for (auto& e : events_of(fd, "half#0")) CHECK(e["event"] != "killed");
  fd.down_and_check_clean();
}
