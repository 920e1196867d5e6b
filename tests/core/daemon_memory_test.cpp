// The daemon gives back what a burst of work freed (os/heap.hpp, trimmed by
// the control actor once things are quiet): a big `status` leaves its
// resident memory where it was, not where the burst took it. Not run by
// scripts/sanitize.sh: ASan's allocator replaces glibc's.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

/// RssAnon of `pid` in KiB (-1 if gone).
long rss_anon_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
  return -1;
}

} // namespace

TEST_CASE("daemon memory: what a burst of status requests freed goes back to the kernel") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[idle]\nargs = " << child_args({"sleep"}) << "\ninstances = 200\n";
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  int pid = daemon_pid(home);
  REQUIRE(pid > 0);
  REQUIRE(eventually([&] {
    auto st = arbor_json({"status"}, home);
    size_t up = 0; // `ready` after min_uptime: a slow (sanitizer) start gets there first
    for (auto& i : st["instances"]) up += i["state"] == "running" || i["state"] == "ready";
    return up == 200;
  }));

  // Each status of 200 instances builds ~0.5 MB of JSON and messages.
  for (int i = 0; i < 3; ++i) REQUIRE(run_arbor({"status", "--json"}, home).rc == 0);
  auto after_burst = rss_anon_kib(pid);
  INFO("RssAnon right after the burst: " << after_burst << " KiB");
  REQUIRE(after_burst > 0);
  long now = after_burst;
  bool released = eventually(
    [&] {
      now = rss_anon_kib(pid);
      return now > 0 && now <= after_burst - 200;
    },
    std::chrono::seconds(5));
  INFO("RssAnon now: " << now << " KiB");
  CHECK(released);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}
