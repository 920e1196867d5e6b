// The daemon's own crash: SIGKILL it, start it again, and every instance is
// still the same process, re-adopted, with its counters; output kept flowing
// through the keeper meanwhile.

#include <catch2/catch.hpp>

#include <csignal>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_util.hpp"
#include "os/proc_read.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

/// Kills whatever a failing test leaves behind: the instances' groups, of
/// those leaders that are still processes of this home (their pids may have
/// been reused by now: never signal a stranger's group).
struct group_guard {
  std::string home;
  std::vector<int> pids;
  ~group_guard() {
    for (auto p : pids) {
      int pfd = pidfd_of_home(p, home);
      if (pfd < 0) continue;
      ::kill(-p, SIGKILL);
      ::close(pfd);
    }
  }
};

uintmax_t size_of(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

/// Processes running the test child in `mode` in directory `cwd` (an app's
/// cwd is its config's directory: unique per test), zombies not counted.
int count_children(const std::string& mode, const std::string& cwd) {
  int n = 0;
  DIR* d = ::opendir("/proc");
  while (auto* e = d ? ::readdir(d) : nullptr) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    // A process may exit while we read it (libstdc++ throws on ESRCH).
    std::string cmd, text;
    try {
      std::ifstream in(std::string{"/proc/"} + e->d_name + "/cmdline");
      cmd.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      std::ifstream st(std::string{"/proc/"} + e->d_name + "/stat");
      text.assign(std::istreambuf_iterator<char>(st), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
      continue;
    }
    std::string want = std::string{ARBOR_TEST_CHILD} + '\0' + mode + '\0';
    if (cmd.compare(0, want.size(), want) != 0) continue;
    std::error_code ec;
    auto where = std::filesystem::read_symlink(std::string{"/proc/"} + e->d_name + "/cwd", ec);
    if (ec || where != std::filesystem::path(cwd)) continue;
    auto close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z') ++n;
  }
  if (d) ::closedir(d);
  return n;
}

} // namespace

TEST_CASE("readopt: after a daemon SIGKILL its apps run on, are re-adopted, output flows") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  group_guard groups{home, {}};
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[ticker]\nargs = " << child_args({"tick", "1"})
                     << "\ninstances = 2\nmin_uptime = 100\n"
                     << "[idle]\nargs = " << child_args({"sleep"}) << "\n";
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  auto before = pids_of(home);
  for (auto& [id, pid] : before) groups.pids.push_back(pid);
  // One restart first, so there is a counter to carry over.
  REQUIRE(::kill(before["ticker#1"], SIGKILL) == 0);
  REQUIRE(eventually([&] {
    auto i = instance_of(home, "ticker#1");
    return i["pid"] != before["ticker#1"] && i["pid"].get<int>() > 0 && i["restarts"] == 1;
  }));
  before = pids_of(home);
  groups.pids.push_back(before["ticker#1"]);

  int daemon = 0;
  std::ifstream(home + "/arbor.pid") >> daemon;
  REQUIRE(daemon > 0);
  // `up` had the keeper start the daemon: its apps become the keeper's.
  arbor::os::proc_brief daemon_stat;
  REQUIRE(arbor::os::read_brief(daemon, daemon_stat));
  const pid_t keeper = daemon_stat.ppid;
  REQUIRE(::kill(daemon, SIGKILL) == 0);
  REQUIRE(wait_gone(daemon));
  for (auto& [id, pid] : before) {
    INFO(id);
    arbor::os::proc_brief b;
    CHECK((arbor::os::read_brief(pid, b) && b.ppid == keeper));
  }
  // Nobody reads the pipes but the keeper: the apps must not block (a pipe
  // holds 64 KiB) nor die of SIGPIPE, and their lines still reach the file.
  auto log = home + "/logs/ticker.out.log";
  auto at_kill = size_of(log);
  CHECK(eventually([&] { return size_of(log) > at_kill + 160 * 1024; }, 30s));
  for (auto& [id, pid] : before) CHECK(::kill(pid, 0) == 0);

  up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(pids_of(home) == before); // the same processes, no new ones
  CHECK(count_children("tick", d.path.string()) == 2);
  CHECK(count_children("sleep", d.path.string()) == 1);
  CHECK(instance_of(home, "ticker#1")["restarts"] == 1);
  // The bus hands the event on to the control actor asynchronously.
  CHECK(eventually([&] {
    return run_arbor({"events", "--json"}, home).out.find("\"adopted\"") != std::string::npos;
  }, 5s));

  // Output flows through the new daemon, and no line was lost or doubled.
  auto at_up = size_of(log);
  REQUIRE(eventually([&] { return size_of(log) > at_up + 20 * 1024; }));
  auto ticks = check_ticks(log, "ticker#0 | ");
  CHECK(ticks.first_gap == "");
  CHECK(ticks.broken == 0);
  CHECK(ticks.lines > 1000);

  // An adopted instance that dies is restarted. The keeper reaped it (no
  // zombie left) and told the new daemon how it ended.
  REQUIRE(::kill(before["ticker#0"], SIGKILL) == 0);
  REQUIRE(eventually([&] {
    auto i = instance_of(home, "ticker#0");
    return i["pid"] != before["ticker#0"] && i["pid"].get<int>() > 0;
  }));
  CHECK(instance_of(home, "ticker#0")["last_exit"] == "signal(SIGKILL)");
  arbor::os::proc_brief gone;
  CHECK_FALSE(arbor::os::read_brief(before["ticker#0"], gone));
  groups.pids.push_back(instance_of(home, "ticker#0")["pid"].get<int>());

  auto down = run_arbor({"down"}, home);
  REQUIRE(down.rc == 0);
  for (auto p : groups.pids) CHECK(wait_gone(p));
  CHECK_FALSE(std::filesystem::exists(home + "/state.json"));
  CHECK(eventually([&] { return !std::filesystem::exists(home + "/keeper.sock"); }));
}

TEST_CASE("readopt: a daemon SIGKILLed right after a mass respawn: every new pid adopted, none doubled") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  group_guard groups{home, {}};
  auto cfg = d.file("arbor.toml");
  const int n = 12;
  std::ofstream(cfg) << "[fleet]\nargs = " << child_args({"sleep"}) << "\ninstances = " << n
                     << "\nmin_uptime = 100\n";
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  auto before = pids_of(home);
  REQUIRE(before.size() == static_cast<size_t>(n));
  for (auto& [id, pid] : before) groups.pids.push_back(pid);
  // Stable runs (past min_uptime) are respawned at once by the exit watcher.
  REQUIRE(eventually([&] {
    auto st = arbor_json({"status"}, home); // held: a range-for over [] of a temporary dangles
    for (auto& i : st["instances"])
      if (i["uptime_ms"].get<int64_t>() < 150) return false;
    return true;
  }));
  for (auto& [id, pid] : before) REQUIRE(::kill(pid, SIGKILL) == 0);
  std::map<std::string, int> after;
  REQUIRE(eventually([&] {
    after = pids_of(home);
    if (after.size() != before.size()) return false;
    for (auto& [id, pid] : after)
      if (pid <= 0 || pid == before[id] || instance_of(home, id)["restarts"] != 1) return false;
    return true;
  }));
  for (auto& [id, pid] : after) groups.pids.push_back(pid);
  int daemon = 0;
  std::ifstream(home + "/arbor.pid") >> daemon;
  REQUIRE(daemon > 0);
  REQUIRE(::kill(daemon, SIGKILL) == 0);
  REQUIRE(wait_gone(daemon));
  // The new pids went to state.json.log as appended lines (unless a quiet
  // compaction, 2 s after the last change, put them in state.json first).
  std::ifstream log_in(home + "/state.json.log");
  std::string line;
  size_t logged = 0;
  while (std::getline(log_in, line))
    for (auto& [id, pid] : after)
      if (line.find("\"pid\":" + std::to_string(pid) + ",") != std::string::npos) ++logged;
  if (logged < after.size()) WARN("only " << logged << " new pids in state.json.log (compacted)");

  up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(pids_of(home) == after); // adopted, not started again
  CHECK(count_children("sleep", d.path.string()) == n);
  for (auto& [id, pid] : after) CHECK(instance_of(home, id)["restarts"] == 1);

  REQUIRE(run_arbor({"down"}, home).rc == 0);
  for (auto& [id, pid] : after) CHECK(wait_gone(pid));
  CHECK_FALSE(std::filesystem::exists(home + "/state.json"));
  CHECK_FALSE(std::filesystem::exists(home + "/state.json.log"));
}

TEST_CASE("readopt: an orphaned grandchild is reaped by the daemon (subreaper)") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto pidfile = d.file("grandchild.pid");
  auto cfg = d.file("arbor.toml");
  // The app forks a grandchild in its group and exits; the grandchild is
  // orphaned while its group is killed. It must not stay a zombie.
  std::ofstream(cfg) << "[forker]\nargs = " << child_args({"grandchild", pidfile, "exit"})
                     << "\nrestart = \"never\"\n";
  auto up = run_arbor({"up", cfg}, home);
  REQUIRE(up.rc == 0);
  auto text = wait_file(pidfile);
  REQUIRE_FALSE(text.empty());
  int grandchild = std::stoi(text);
  int daemon = 0;
  std::ifstream(home + "/arbor.pid") >> daemon;
  // Gone entirely: killed with its group and reaped (no zombie left with
  // the daemon as its parent).
  CHECK(eventually([&] { return ::kill(grandchild, 0) != 0; }, 10s));
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("readopt: an adopted run's exit code counts: exit 0 under on_failure stays down") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto go = d.file("go");
  auto cfg = d.file("arbor.toml");
  // One instance that exits 0 once told to, under `restart = "on_failure"`.
  up_with(home, cfg,
          "[once]\nargs = [\"/bin/sh\", \"-c\", \"while [ ! -e " + go
            + " ]; do sleep 0.02; done; exit 0\"]\nrestart = \"on_failure\"\n");
  auto before = pids_of(home);
  int daemon = daemon_pid(home);
  REQUIRE(daemon > 0);
  REQUIRE(signal_if_of_home(daemon, home, SIGKILL));
  REQUIRE(wait_gone(daemon));
  auto up = run_arbor({"up", cfg}, home); // the keeper's replacement, or this one
  INFO(up.err);
  REQUIRE(up.rc == 0);
  REQUIRE(pids_of(home) == before); // adopted: not our child, the keeper's
  std::ofstream(go) << "now\n";
  // Not restarted: without the keeper's status the exit would be "unknown",
  // taken for a failure.
  REQUIRE(eventually([&] { return instance_of(home, "once#0")["state"] == "stopped"; }, 10s));
  auto i = instance_of(home, "once#0");
  CHECK(i["last_exit"] == "exit(0)");
  CHECK(i["restarts"] == 0);
  CHECK(i["pid"] == 0);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}
