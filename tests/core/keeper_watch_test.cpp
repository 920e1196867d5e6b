// The keeper and the daemon watch each other: either one SIGKILLed is
// noticed, said in the logs and events, and replaced; no app dies of it and
// no line of output is lost.

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <future>
#include <set>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

/// The events of `arbor events --json` of kind `what`.
std::vector<nlohmann::json> events_of(const std::string& home, const std::string& what) {
  std::vector<nlohmann::json> out;
  auto r = run_arbor({"events", "--json"}, home);
  std::istringstream in{r.out};
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == what) out.push_back(j);
  }
  return out;
}

/// The one keeper of `home` (0 unless exactly one runs).
int keeper_of(const std::string& home) {
  auto k = programs_of_home(home, "arbor-keeper");
  return k.size() == 1 ? k[0] : 0;
}

/// Waits for a daemon other than `old` to answer on `home`; its pid or 0.
int new_daemon(const std::string& home, int old) {
  int pid = 0;
  eventually([&] {
    auto r = run_arbor({"status"}, home, std::chrono::seconds(10));
    pid = daemon_pid(home);
    return r.rc == 0 && pid > 0 && pid != old;
  }, std::chrono::seconds(30));
  return pid != old ? pid : 0;
}

std::string ticker_config() {
  return "[ticker]\nargs = " + child_args({"tick", "1"}) + "\ninstances = 2\n"
         + "[idle]\nargs = " + child_args({"sleep"}) + "\n";
}

/// `up` of `stub` (ignores SIGTERM; `stub_keys` added to it) and two `calm`
/// instances in `home`; the pid of each instance.
std::map<std::string, int> up_stub_and_calm(const temp_dir& d, const std::string& home,
                                            const std::string& stub_keys) {
  up_with(home, d.file("arbor.toml"),
          "[stub]\nargs = " + child_args({"ignore-term"}) + "\n" + stub_keys + "[calm]\nargs = "
            + child_args({"sleep"}) + "\ninstances = 2\n");
  auto pids = pids_of(home);
  REQUIRE(pids.size() == 3);
  return pids;
}

} // namespace

TEST_CASE("keeper watch: a SIGKILLed daemon is replaced by the keeper, apps re-adopted") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  up_with(home, d.file("arbor.toml"), ticker_config());
  auto before = pids_of(home);
  int daemon = daemon_pid(home);
  REQUIRE(daemon > 0);
  REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
  REQUIRE(wait_gone(daemon));

  // No `arbor up`: the keeper starts a daemon, which re-adopts every app.
  int replacement = new_daemon(home, daemon);
  REQUIRE(replacement > 0);
  CHECK(pids_of(home) == before);
  CHECK(programs_of_home(home, "arbor-daemon") == std::vector<int>{replacement});
  std::vector<nlohmann::json> replaced;
  CHECK(eventually([&] { return !(replaced = events_of(home, "daemon_replaced")).empty(); }));
  REQUIRE(replaced.size() == 1);
  CHECK(replaced[0]["pid"] == daemon);
  CHECK(replaced[0]["reason"].get<std::string>().find("arbor-keeper started this one")
        != std::string::npos);
  CHECK(events_of(home, "adopted").size() == before.size());
  auto keeper_log = slurp(home + "/keeper.log");
  CHECK(keeper_log.find("event=daemon_started daemon_pid=" + std::to_string(daemon)
                        + " new_pid=" + std::to_string(replacement))
        != std::string::npos);
  CHECK(slurp(home + "/daemon.log").find("event=daemon_replaced") != std::string::npos);

  // A clean stop is no death: nothing is started again, nothing is left.
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  for (auto& [id, pid] : before) CHECK(wait_gone(pid));
  CHECK(eventually([&] { return processes_of_home(home).empty(); }));
}

TEST_CASE("keeper watch: after `up` of another file, a SIGKILLed daemon is replaced on that file") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  up_with(home, d.file("a.toml"), "[a1]\nargs = " + child_args({"sleep"}) + "\n");
  std::ofstream(d.file("b.toml")) << "[b1]\nargs = " + child_args({"sleep"}) + "\n";
  auto switched = run_arbor({"up", "--yes", d.file("b.toml")}, home);
  REQUIRE(switched.rc == 0);
  REQUIRE(eventually([&] { return pids_of(home).count("b1#0") == 1; }));
  auto before = pids_of(home);
  CHECK(before.count("a1#0") == 0);
  int daemon = daemon_pid(home);
  REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
  REQUIRE(wait_gone(daemon));

  // The keeper's daemon runs b.toml: b1 adopted (same pid), a1 not back.
  REQUIRE(new_daemon(home, daemon) > 0);
  CHECK(pids_of(home) == before);
  auto dry = arbor_json({"apply", "--dry-run"}, home);
  CHECK(dry.value("applied_file", std::string{}) == d.file("b.toml"));
  CHECK(dry.value("unchanged", std::vector<std::string>{}) == std::vector<std::string>{"b1"});
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return processes_of_home(home).empty(); }));
}

TEST_CASE("keeper watch: a daemon SIGKILLed during `down` is replaced by one that finishes the stop") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  // The down waits stub's kill_timeout, and is killed there.
  auto before = up_stub_and_calm(d, home, "kill_timeout = 20000\n");
  int daemon = daemon_pid(home);
  auto down = std::async(std::launch::async, [&] { return run_arbor({"down"}, home); });
  // Stopped in reverse start order: calm first, then stub's long wait.
  REQUIRE(wait_gone(before["calm#0"], std::chrono::seconds(15)));
  REQUIRE(wait_gone(before["calm#1"], std::chrono::seconds(15)));
  REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
  CHECK(down.get().rc == 0);

  // The keeper's replacement starts nothing and ends what is left: of the
  // home's processes (by /proc), no app but stub is ever seen again.
  std::set<int> apps;
  CHECK(eventually([&] {
    auto left = processes_of_home(home);
    for (int pid : left)
      if (slurp("/proc/" + std::to_string(pid) + "/cmdline").find("arbor-test-child")
          != std::string::npos)
        apps.insert(pid);
    return left.empty();
  }, std::chrono::seconds(30)));
  for (int pid : apps) CHECK(pid == before["stub#0"]);
  CHECK(slurp(home + "/daemon.log").find("finishing the stop of a daemon that died while stopping")
        != std::string::npos);
}

TEST_CASE("keeper watch: with the daemon and its keeper both gone, `down` stops what is left") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto before = up_stub_and_calm(d, home, "");
  int daemon = daemon_pid(home), keeper = keeper_of(home);
  REQUIRE(keeper > 0);
  // Stopped first, so that neither can start the other again.
  for (int pid : {daemon, keeper}) REQUIRE(signal_if_of_home(pid, home, SIGSTOP));
  for (int pid : {daemon, keeper}) REQUIRE(signal_if_of_home(pid, home, SIGKILL));
  for (int pid : {daemon, keeper}) REQUIRE(wait_gone(pid));
  for (auto& [id, pid] : before) CHECK(::kill(pid, 0) == 0); // unsupervised now

  auto down = run_arbor({"down"}, home, std::chrono::seconds(30));
  INFO(down.out << down.err);
  CHECK(down.rc == 0);
  CHECK(down.out.find("but 3 of its processes still do") != std::string::npos);
  for (auto& [id, pid] : before) CHECK(wait_gone(pid)); // stub by SIGKILL
  CHECK(eventually([&] { return processes_of_home(home).empty(); }));
  CHECK(run_arbor({"down"}, home).out.find("no daemon running") != std::string::npos);
}

TEST_CASE("keeper watch: keeper SIGKILLed, then the daemon: no app dies, no line lost") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  up_with(home, d.file("arbor.toml"), ticker_config());
  auto before = pids_of(home);
  int daemon = daemon_pid(home);
  int keeper = keeper_of(home);
  REQUIRE(keeper > 0);

  REQUIRE(signal_if_of_home(keeper, home, SIGKILL));
  REQUIRE(wait_gone(keeper));
  // The daemon notices, says so, and has a new keeper hold every pipe.
  CHECK(eventually([&] { return !events_of(home, "keeper_started").empty(); }));
  auto lost = events_of(home, "keeper_lost");
  REQUIRE(lost.size() == 1);
  CHECK(lost[0]["pid"] == keeper);
  CHECK(slurp(home + "/daemon.log").find("event=keeper_lost") != std::string::npos);
  int second = keeper_of(home);
  REQUIRE(second > 0);
  CHECK(second != keeper);

  auto log = home + "/logs/ticker.out.log";
  REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
  REQUIRE(wait_gone(daemon));
  int replacement = new_daemon(home, daemon);
  REQUIRE(replacement > 0);
  // Every app is the same process (none died of SIGPIPE), never restarted.
  CHECK(pids_of(home) == before);
  for (auto& [id, pid] : before) {
    auto st = arbor_json({"status"}, home);
    for (auto& i : st["instances"])
      if (i["id"] == id) CHECK(i["restarts"] == 0);
  }
  auto at = check_ticks(log, "ticker#1 | ").lines;
  REQUIRE(eventually([&] { return check_ticks(log, "ticker#1 | ").lines > at + 500; }));
  for (auto prefix : {"ticker#0 | ", "ticker#1 | "}) {
    auto ticks = check_ticks(log, prefix);
    INFO(prefix);
    CHECK(ticks.first_gap == "");
    CHECK(ticks.broken == 0);
  }
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return processes_of_home(home).empty(); }));
}

TEST_CASE("keeper watch: `arbor up` right after a daemon's death races the keeper: one daemon wins") {
  temp_dir d;
  auto home = d.file("home");
  auto cfg = d.file("arbor.toml");
  daemon_guard guard{home};
  up_with(home, cfg, ticker_config());
  auto before = pids_of(home);
  int daemon = daemon_pid(home);
  REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
  REQUIRE(wait_gone(daemon));
  // At once: the keeper is starting its own daemon too. Whichever takes the
  // home's lock serves; the other leaves, and `up` applies to the winner.
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.out << up.err);
  CHECK(up.rc == 0);
  int winner = new_daemon(home, daemon);
  REQUIRE(winner > 0);
  CHECK(eventually([&] {
    return programs_of_home(home, "arbor-daemon") == std::vector<int>{winner};
  }));
  CHECK(pids_of(home) == before);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return processes_of_home(home).empty(); }));
}
