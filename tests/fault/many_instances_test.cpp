// Scale: thousands of instances start, answer `status`, all come back after
// a mass SIGKILL, and stop with `down`. 2,000 here (a ctest run on a loaded
// 2-core machine stays well under its timeout); bench/ten_thousand.sh does
// 10,000 where the hard descriptor limit allows it.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>

#include "config/fd_budget.hpp"
#include "fault_util.hpp"

using namespace arbor::test;

namespace {

/// 2,000 instances, or fewer if the hard limit a daemon started from here
/// gets cannot hold them (said in the test's output).
uint32_t instance_count() {
  rlimit rl{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  uint64_t room = rl.rlim_max - arbor::config::daemon_fds - arbor::config::fd_reserve - 2;
  auto n = static_cast<uint32_t>(std::min<uint64_t>(2000, room / arbor::config::fds_per_instance));
  if (n < 2000) WARN("hard RLIMIT_NOFILE " << rl.rlim_max << ": " << n << " instances");
  return n;
}

/// Instances up, from one `status`; their pids in `pids`.
size_t up_now(const fault_daemon& fd, std::set<int>& pids) {
  auto r = fd.cli({"status", "--json"});
  if (r.rc != 0) return 0;
  pids.clear();
  auto st = nlohmann::json::parse(r.out);
  for (auto& i : st["instances"])
    if (is_up(i["state"])) pids.insert(i["pid"].get<int>());
  return pids.size();
}

} // namespace

TEST_CASE("fault: 2000 instances start, answer status, all come back after a mass SIGKILL, "
          "stop") {
  const auto n = instance_count();
  fault_daemon fd;
  fd.up("[s]\nargs = " + child_args({"sleep"}) + "\ninstances = " + std::to_string(n)
        + "\nmin_uptime = 100\n" + fd.app_env());
  std::set<int> first;
  REQUIRE(wait_until([&] { return up_now(fd, first) == n; }, 60s));
  // Five descriptors each, and little besides.
  auto fds = open_fds(fd.pid).size();
  CHECK(fds >= n * arbor::config::fds_per_instance);
  CHECK(fds <= n * arbor::config::fds_per_instance + arbor::config::daemon_fds);

  for (int pid : first) ::kill(pid, SIGKILL); // ours: instances of this home, just listed
  std::set<int> second;
  CHECK(wait_until([&] {
    if (up_now(fd, second) != n) return false;
    for (int pid : second)
      if (first.count(pid)) return false;
    return true;
  }, 60s));
  auto st = fd.json({"status"});
  size_t once = 0;
  for (auto& i : st["instances"]) once += i["restarts"] == 1;
  CHECK(once == n);
  fd.down_and_check_clean(60s);
}
