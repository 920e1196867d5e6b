// Containment as an attacker tests it: a run that forks 200 children and a
// daemonizing helper (double fork + setsid), a fork bomb, a memory hog and a
// busy loop, each under a real daemon; then the same stop without cgroups
// (ARBOR_CONTAINMENT=process-group), and a daemon SIGKILL with cgroups.

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "fault_util.hpp"

namespace arbor::test {

namespace {

/// Sets ARBOR_CONTAINMENT for the daemons started in this scope.
struct containment_env {
  explicit containment_env(const char* value) { ::setenv("ARBOR_CONTAINMENT", value, 1); }
  ~containment_env() { ::unsetenv("ARBOR_CONTAINMENT"); }
};

bool populated(const std::string& cgroup) {
  std::ifstream in(cgroup + "/cgroup.events");
  std::string key;
  for (int v; in >> key >> v;)
    if (key == "populated") return v != 0;
  return false; // removed: nothing in it
}

int processes_of(const nlohmann::json& inst) {
  return inst["processes"].is_number() ? inst["processes"].get<int>() : -1;
}

/// CPU time of `pid` (utime + stime) in clock ticks.
long cpu_ticks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = all.rfind(')');
  if (at == std::string::npos) return -1;
  std::istringstream rest(all.substr(at + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// 200 children, and a helper that daemonizes (double fork + setsid).
const char* fan_out = "command = \"sh -c '(setsid sleep 1001 &); i=0; while [ $i -lt 200 ]; do "
                      "sleep 1000 & i=$((i+1)); done; exec sleep 1000'\"\n";

} // namespace

TEST_CASE("containment: stop leaves none of 200 children and a setsid double fork (cgroup)") {
  containment_env env{"cgroup"};
  fault_daemon d;
  d.up("[fan]\n" + std::string{fan_out} + d.app_env() + "kill_timeout = 3000\n");
  nlohmann::json inst;
  // Both counts: while the shell forks, a subshell on its way out can make
  // the cgroup's 202 for a moment before the last sleep is there.
  REQUIRE(wait_until([&] {
    inst = d.instance("fan#0");
    return processes_of(inst) == 202 && marked_processes(d.marker).size() == 202;
  }, 30s));
  CHECK(inst["containment"] == "cgroup");
  auto cgroup = inst["cgroup"].get<std::string>();
  CHECK(populated(cgroup));

  auto r = d.cli({"stop", "fan"});
  REQUIRE(r.rc == 0);
  // `stop` answers once the kernel says the cgroup is empty: nothing to wait for.
  CHECK_FALSE(populated(cgroup));
  CHECK(marked_processes(d.marker).empty());
  d.down_and_check_clean();
}

TEST_CASE("containment: without cgroups (process-group) a stop still ends the run's leftovers") {
  containment_env env{"process-group"};
  fault_daemon d;
  d.up("[fan]\n" + std::string{fan_out} + d.app_env() + "kill_timeout = 3000\n");
  REQUIRE(wait_until([&] { return marked_processes(d.marker).size() == 202; }, 30s));
  auto inst = d.instance("fan#0");
  CHECK(inst["containment"] == "process-group");
  CHECK(inst["cgroup"].is_null());
  REQUIRE(d.cli({"stop", "fan"}).rc == 0);
  // The group dies with the stop; what left it is found by its ARBOR_ID
  // among the daemon's (subreaper's) children and stopped after.
  CHECK(wait_until([&] { return marked_processes(d.marker).empty(); }, 10s));
  // Limits need cgroups: an app with one fails with the reason, never silently.
  write_file(d.cfg, "[fan]\n" + std::string{fan_out} + d.app_env() + "pids_max = 100\n");
  auto r = d.cli({"up", d.cfg});
  CHECK(r.rc == 1);
  CHECK(r.err.find("pids_max need cgroups") != std::string::npos);
  CHECK(d.instance("fan#0")["reason"].get<std::string>().find("need cgroups") != std::string::npos);
  d.down_and_check_clean();
}

TEST_CASE("containment: pids_max stops a fork bomb inside the app, and arbor stays healthy") {
  containment_env env{"cgroup"};
  fault_daemon d;
  // Forks until refused (up to 400), then says how many it got and keeps them.
  write_file(d.file("bomb.py"), "import os, time\nn = 0\nwhile n < 400:\n    try:\n"
             "        if os.fork() == 0:\n            time.sleep(1000)\n            os._exit(0)\n"
             "        n += 1\n    except OSError:\n        break\n"
             "print('forked', n, flush=True)\ntime.sleep(1000)\n");
  d.up("[bomb]\ncommand = \"python3 " + d.file("bomb.py") + "\"\n" + d.app_env() + "pids_max = 60\n");
  REQUIRE(wait_until([&] { return processes_of(d.instance("bomb#0")) == 60; }, 30s));
  auto log = d.home + "/logs/bomb.out.log";
  REQUIRE(wait_until([&] {
    std::ifstream in(log);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.find("forked 59") != std::string::npos;
  }, 10s));
  CHECK(d.cli({"status"}).rc == 0);
  REQUIRE(d.cli({"stop", "bomb"}).rc == 0);
  CHECK(marked_processes(d.marker).empty());
  d.down_and_check_clean();
}

TEST_CASE("containment: memory_max OOM-kills a hog, restarted with cause oom") {
  containment_env env{"cgroup"};
  fault_daemon d;
  d.up("[hog]\ncommand = \"python3 -c 'x = bytearray(256 << 20); import time; time.sleep(1000)'\"\n"
       + d.app_env() + "memory_max = \"64M\"\nbackoff_base_ms = 1000\n");
  std::vector<nlohmann::json> evs;
  auto has = [&](const char* what, const char* key, const std::string& prefix) {
    for (auto& e : evs)
      if (e["event"] == what && e[key].is_string()
          && e[key].get<std::string>().rfind(prefix, 0) == 0)
        return true;
    return false;
  };
  REQUIRE(wait_until([&] {
    evs.clear();
    std::istringstream lines(d.cli({"events", "--json"}).out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) evs.push_back(nlohmann::json::parse(line));
    int started = 0;
    for (auto& e : evs) started += e["event"] == "child_started";
    // Killed by the kernel for its memory_max, and started again.
    return has("child_exited", "reason", "oom: killed by the kernel over memory_max 64M")
           && started >= 2;
  }, 30s));
  d.down_and_check_clean();
}

TEST_CASE("containment: cpu_max = 50% holds a busy loop at half a CPU") {
  containment_env env{"cgroup"};
  fault_daemon d;
  d.up("[busy]\ncommand = \"sh -c 'while :; do :; done'\"\n" + d.app_env() + "cpu_max = \"50%\"\n");
  int pid = 0;
  REQUIRE(wait_until([&] {
    pid = d.instance("busy#0")["pid"].get<int>();
    return pid > 0;
  }));
  const long hz = ::sysconf(_SC_CLK_TCK);
  auto t0 = std::chrono::steady_clock::now();
  long c0 = cpu_ticks(pid);
  std::this_thread::sleep_for(3s); // the measurement window itself, not a wait for an event
  long c1 = cpu_ticks(pid);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double pct = 100.0 * static_cast<double>(c1 - c0) / static_cast<double>(hz) / secs;
  INFO("busy loop at " << pct << "% of a CPU");
  // The cap is the upper bound. The floor only shows the loop ran: a loaded
  // machine (parallel tests on 2 cores) can hold it below its half.
  CHECK(pct > 25);
  CHECK(pct < 60);
  d.down_and_check_clean();
}

TEST_CASE("containment: after a daemon SIGKILL the same runs are adopted with their children") {
  containment_env env{"cgroup"};
  fault_daemon d;
  d.up("[kids]\ncommand = \"sh -c 'sleep 1000 & (setsid sleep 1000 &); exec sleep 1000'\"\n"
       "instances = 2\n" + d.app_env());
  std::map<std::string, int> before;
  REQUIRE(wait_until([&] {
    for (auto id : {"kids#0", "kids#1"}) {
      auto x = d.instance(id);
      if (processes_of(x) != 3) return false;
      before[id] = x["pid"].get<int>();
    }
    return true;
  }, 20s));
  REQUIRE(::kill(d.pid, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return ::kill(d.pid, 0) != 0; }));
  d.up("[kids]\ncommand = \"sh -c 'sleep 1000 & (setsid sleep 1000 &); exec sleep 1000'\"\n"
       "instances = 2\n" + d.app_env());
  for (auto id : {"kids#0", "kids#1"}) {
    auto x = d.instance(id);
    INFO(x.dump());
    CHECK(x["pid"].get<int>() == before[id]);
    CHECK(processes_of(x) == 3);
    CHECK(x["containment"] == "cgroup");
  }
  CHECK(marked_processes(d.marker).size() == 6); // none doubled
  d.down_and_check_clean();
}

} // namespace arbor::test

namespace arbor::test {

TEST_CASE("containment: what a dead run left with a scrubbed environment is stopped by the next daemon") {
  containment_env env{"cgroup"};
  fault_daemon d;
  // `env -i`: no FAULT_MARK, no ARBOR_ID; only its cgroup says whose it is.
  auto toml = "[scrub]\ncommand = \"sh -c '(setsid env -i sleep 1007 &); exec sleep 1000'\"\n"
              + d.app_env();
  d.up(toml);
  nlohmann::json inst;
  REQUIRE(wait_until([&] {
    inst = d.instance("scrub#0");
    return processes_of(inst) == 2;
  }, 20s));
  auto old_cgroup = inst["cgroup"].get<std::string>();
  auto leader = inst["pid"].get<int>();
  REQUIRE(::kill(d.pid, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return ::kill(d.pid, 0) != 0; }));
  REQUIRE(::kill(leader, SIGKILL) == 0); // the run's leader dies while no daemon runs
  d.up(toml);
  // A new run in a new cgroup; the old one's scrubbed process is stopped.
  REQUIRE(wait_until([&] {
    auto x = d.instance("scrub#0");
    return processes_of(x) == 2 && x["cgroup"] != old_cgroup;
  }, 20s));
  CHECK(wait_until([&] { return !populated(old_cgroup); }, 15s));
  d.down_and_check_clean();
}

} // namespace arbor::test
