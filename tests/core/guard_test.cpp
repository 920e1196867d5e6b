// The suite's own cleanup: a test that fails after its daemon died must not
// leave that daemon's keeper and apps running (they wait for a new daemon).

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <poll.h>
#include <unistd.h>
#include <vector>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

TEST_CASE("test guard: the keeper and apps of a SIGKILLed daemon are killed with the guard") {
  temp_dir d;
  auto home = d.file("home");
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[idle]\nargs = " << child_args({"sleep"}) << "\ninstances = 2\n";
  std::vector<int> pidfds; // pinned: whatever their pids become later
  {
    daemon_guard guard{home};
    auto up = run_arbor({"up", cfg}, home);
    INFO(up.err);
    REQUIRE(up.rc == 0);
    int daemon = daemon_pid(home);
    REQUIRE(daemon > 0);
    REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
    REQUIRE(wait_gone(daemon));
    // Two apps and the keeper outlive the daemon, by design.
    for (int pid : processes_of_home(home)) {
      int pfd = pidfd_of_home(pid, home);
      if (pfd >= 0) pidfds.push_back(pfd);
    }
    REQUIRE(pidfds.size() >= 3);
  }
  // Each of them has exited (a pidfd turns readable at exit, zombie or not).
  for (int pfd : pidfds) {
    pollfd p{pfd, POLLIN, 0};
    CHECK(::poll(&p, 1, 5000) == 1);
    ::close(pfd);
  }
  std::vector<int> still = processes_of_home(home);
  for (int pid : still) {
    auto cmd = slurp("/proc/" + std::to_string(pid) + "/cmdline");
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    FAIL_CHECK("still running: " << pid << " " << cmd
                                 << "stat: " << slurp("/proc/" + std::to_string(pid) + "/stat"));
  }
}
