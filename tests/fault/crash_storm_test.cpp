// A crash storm: 50 instances that exit after short runs, restarted both by
// the exit watcher's standing order (min_uptime 0) and by the supervisors'
// backoff path, beside a healthy neighbour. The daemon must keep answering,
// account for every exit, reap every child and leave nothing behind.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

struct lifecycle {
  std::set<int> started;       // pids of child_started
  std::multiset<int> ended;    // pids of child_exited and stopped (with a pid)
};

} // namespace

TEST_CASE("fault: a crash storm of 50 instances: the daemon answers, counts and reaps every exit") {
  fault_daemon fd;
  auto env = fd.app_env();
  // Three kinds of crash: fast and mid go through the watcher's respawn
  // order (every run counts as stable), slow through the app supervisor's
  // backoff (every run is short of min_uptime).
  fd.up("[storm.fast]\nargs = " + child_args({"run-for", "150", "1"})
        + "\ninstances = 20\nmin_uptime = 0\nrestart = \"always\"\n" + env
        + "[storm.mid]\nargs = " + child_args({"run-for", "250", "3"})
        + "\ninstances = 15\nmin_uptime = 0\n" + env
        + "[storm.slow]\nargs = " + child_args({"run-for", "80", "2"})
        + "\ninstances = 15\nmin_uptime = 60000\nmax_restarts = 100000\n"
          "backoff_base_ms = 5\nbackoff_max_ms = 40\n" + env
        + "[calm]\nargs = " + child_args({"sleep"}) + "\n" + env);
  auto calm = fd.instance("calm#0");
  REQUIRE(calm["pid"].get<int>() > 0);
  const int calm_pid = calm["pid"].get<int>();

  // The storm rages ~2 s. Ask for status throughout; look for zombies that
  // outlive a sampling interval (a reap that never happened).
  std::vector<long> status_ms;
  std::set<int> zombies_before;
  int lingering = -1;
  auto storm_end = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < storm_end || status_ms.size() < 3) {
    auto t0 = std::chrono::steady_clock::now();
    auto st = fd.json({"status"});
    status_ms.push_back(
      std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - t0).count());
    for (auto& i : st["instances"])
      if (i["id"] == "calm#0") CHECK(i["pid"].get<int>() == calm_pid);
    REQUIRE(st["instances"].size() == 51);
    std::set<int> zombies;
    for (int z : zombie_children(fd.pid)) {
      zombies.insert(z);
      if (zombies_before.count(z)) lingering = z;
    }
    zombies_before = zombies;
    std::this_thread::sleep_for(250ms); // the storm's pace, not a wait for a condition
  }
  CHECK(lingering == -1);
  REQUIRE(status_ms.size() >= 3);
  std::sort(status_ms.begin(), status_ms.end());
  INFO("status during the storm: median " << status_ms[status_ms.size() / 2] << " ms, max "
                                          << status_ms.back() << " ms");
  // A few ms on an idle machine (CLI start included); 30-500 ms measured
  // with the machine at load 10-15. Generous for a loaded CI box.
#if defined(__SANITIZE_ADDRESS__)
  // ASan-built CLI and daemon: 400-600 ms alone, 1.7 s once beside the other
  // ASan tests of a parallel run. Here the bound only catches a starved
  // control path; the plain build checks the figure.
  constexpr long slow = 5;
#else
  constexpr long slow = 1;
#endif
  CHECK(status_ms[status_ms.size() / 2] < 500 * slow);
  CHECK(status_ms.back() < 2500 * slow);

  // End the storm; every process is gone when `stop` replies.
  auto stop = fd.cli({"stop", "storm"});
  INFO(stop.err);
  REQUIRE(stop.rc == 0);
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan, run-for children leave zombies in the daemon's own group
  // that the orphan sweep (once a second) reaps: allow it one sweep.
  CHECK(wait_until([&] { return zombie_children(fd.pid).empty(); }, 3s));
#else
  CHECK(zombie_children(fd.pid).empty());
#endif
  auto st = fd.json({"status"});

  // Account: per instance, every pid that started ended exactly once, and
  // the restart counter is the number of runs minus the first.
  std::map<std::string, lifecycle> runs;
  for (auto& e : logged_events(fd.home + "/daemon.log")) {
    if (e.offender.rfind("storm.", 0) != 0) continue;
    if (e.what == "child_started") runs[e.offender].started.insert(e.pid);
    if ((e.what == "child_exited" || e.what == "stopped") && e.pid > 0)
      runs[e.offender].ended.insert(e.pid);
  }
  size_t total_runs = 0, mismatched = 0;
  for (auto& i : st["instances"]) {
    auto id = i["id"].get<std::string>();
    if (id == "calm#0") {
      CHECK(i["pid"].get<int>() == calm_pid);
      CHECK(i["restarts"].get<int>() == 0);
      continue;
    }
    CHECK(i["state"] == "stopped");
    CHECK(i["pid"].get<int>() == 0);
    auto& r = runs[id];
    total_runs += r.started.size();
    std::set<int> ended_once(r.ended.begin(), r.ended.end());
    bool ok = !r.started.empty() && ended_once == r.started && r.ended.size() == r.started.size()
              && static_cast<size_t>(i["restarts"].get<int>()) == r.started.size() - 1;
    if (!ok) {
      ++mismatched;
      UNSCOPED_INFO(id << ": " << r.started.size() << " started, " << r.ended.size()
                       << " ended, restarts " << i["restarts"]);
    }
  }
  INFO("runs in the storm: " << total_runs);
  CHECK(mismatched == 0);
  CHECK(total_runs >= 200); // it was a storm: ~500 on a loaded machine

  fd.down_and_check_clean();
}
