// The daemon and its descriptor limit (RLIMIT_NOFILE). A tree the limit
// cannot hold is refused by `check`, `up`, `apply` and `scale`, each naming
// what the tree needs and the limit. An instance whose respawn finds no
// descriptor left (the limit lowered from outside with prlimit(2)) retries
// with its backoff and comes back by itself once there are descriptors again.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <signal.h>
#include <sys/resource.h>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

/// Raises `pid`'s soft limit to its hard limit.
bool raise_soft_limit(int pid) {
  rlimit rl{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &rl) != 0) return false;
  rl.rlim_cur = rl.rlim_max;
  return ::prlimit(pid, RLIMIT_NOFILE, &rl, nullptr) == 0;
}

/// Puts the daemon's soft limit back up whatever happens, so that it can stop.
struct limit_restorer {
  int pid;
  ~limit_restorer() { raise_soft_limit(pid); }
};

void set_soft_limit(int pid, rlim_t soft) {
  rlimit rl{};
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, nullptr, &rl) == 0);
  rl.rlim_cur = soft;
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &rl, nullptr) == 0);
}

/// `arbor ARGS...` under `prlimit --nofile=L:L`: what a daemon started from
/// that shell could have.
cli_result arbor_limited(int limit, const std::vector<std::string>& args, const fault_daemon& fd) {
  std::vector<std::string> argv{"prlimit", "--nofile=" + std::to_string(limit) + ":"
                                             + std::to_string(limit), ARBOR_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, {"ARBOR_HOME=" + fd.home, "NO_COLOR=1"}, fd.home);
}

/// The daemon's pidfd numbers, each with the pid it refers to (fdinfo "Pid:").
std::map<int, int> pidfds(int daemon) {
  std::map<int, int> out;
  for (int fd : open_fds(daemon)) {
    std::ifstream in("/proc/" + std::to_string(daemon) + "/fdinfo/" + std::to_string(fd));
    for (std::string line; std::getline(in, line);)
      if (line.rfind("Pid:", 0) == 0) out[fd] = std::stoi(line.substr(4));
  }
  return out;
}

/// Lines of daemon.log with `event=WHAT` about `offender`.
std::vector<std::string> event_lines(const fault_daemon& fd, const std::string& what,
                                     const std::string& offender) {
  std::vector<std::string> out;
  std::istringstream in(slurp(fd.home + "/daemon.log"));
  for (std::string l; std::getline(in, l);)
    if (l.find("event=" + what + " ") != std::string::npos
        && l.find("offender=" + offender + " ") != std::string::npos)
      out.push_back(l);
  return out;
}

} // namespace

TEST_CASE("fault: check and up refuse a tree the descriptor limit cannot hold, naming both "
          "numbers") {
  fault_daemon fd;
  // 100 instances need 100 × 5 + 2 + 120: more than 300.
  write_file(fd.cfg, "[s]\nargs = " + child_args({"sleep"}) + "\ninstances = 100\n" + fd.app_env());
  auto check = arbor_limited(300, {"check", fd.cfg}, fd);
  INFO(check.err);
  CHECK(check.rc == 2);
  CHECK(check.err.find("this tree needs ~622 descriptors (100 instances × 5 + 122 besides), "
                       "the limit a daemon started from this shell gets (its hard RLIMIT_NOFILE) "
                       "is 300: raise it (LimitNOFILE=")
        != std::string::npos);

  auto up = arbor_limited(300, {"up", fd.cfg}, fd);
  INFO(up.err);
  CHECK(up.rc == 2);
  CHECK(up.err.find("needs ~622 descriptors") != std::string::npos);
  CHECK(up.err.find("is 300: raise it") != std::string::npos);
  CHECK(daemon_pid(fd.home) == 0);
  CHECK(marked_processes(fd.marker).empty());

  // What fits passes: 30 instances need 272.
  write_file(fd.cfg, "[s]\nargs = " + child_args({"sleep"}) + "\ninstances = 30\n" + fd.app_env());
  CHECK(arbor_limited(300, {"check", fd.cfg}, fd).rc == 0);
}

TEST_CASE("fault: apply and scale refuse a tree the daemon's descriptor limit cannot hold, "
          "and nothing changes") {
  fault_daemon fd;
  auto env = fd.app_env();
  fd.up("[base]\nargs = " + child_args({"sleep"}) + "\n" + env + "[grow]\nargs = "
        + child_args({"sleep"}) + "\ninstances = 2\n" + env);
  limit_restorer restore{fd.pid};
  set_soft_limit(fd.pid, 300);

  // 2 apps: 4 + 120 besides; 1 + 100 instances need 505 more.
  auto scale = fd.cli({"scale", "grow", "100"});
  INFO(scale.err);
  CHECK(scale.rc == 1);
  CHECK(scale.err.find("this tree needs ~629 descriptors (101 instances × 5 + 124 besides), "
                       "the daemon's limit is 300: raise it")
        != std::string::npos);
  CHECK(scale.err.find("nothing changed") != std::string::npos);

  write_file(fd.file("big.toml"), "[base]\nargs = " + child_args({"sleep"}) + "\n" + env
                                    + "[grow]\nargs = " + child_args({"sleep"})
                                    + "\ninstances = 100\n" + env);
  auto apply = fd.cli({"apply", fd.file("big.toml")});
  INFO(apply.err);
  CHECK(apply.rc == 1);
  CHECK(apply.err.find("needs ~629 descriptors") != std::string::npos);
  CHECK(apply.err.find("the daemon's limit is 300") != std::string::npos);
  CHECK(fd.json({"status"})["instances"].size() == 3);

  // Within the limit, scale works, and the next budget counts what it added:
  // 1 + 34 instances need 299, 1 + 35 need 304.
  CHECK(fd.cli({"scale", "grow", "34"}).rc == 0);
  CHECK(fd.json({"status"})["instances"].size() == 35);
  auto more = fd.cli({"scale", "base", "2"});
  CHECK(more.rc == 1);
  CHECK(more.err.find("needs ~304 descriptors") != std::string::npos);
  fd.down_and_check_clean();
}

TEST_CASE("fault: a respawn that finds no descriptor left retries with the backoff and comes "
          "back by itself") {
  fault_daemon fd;
  auto env = fd.app_env();
  fd.up("[base]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\n" + env
        + "[grow]\nargs = " + child_args({"sleep"}) + "\ninstances = 3\nmin_uptime = 100\n"
        + env);
  auto before = pids_of(fd.home);
  // The last CLI connection may still be closing: let the count settle.
  std::set<int> used;
  wait_until([&] {
    auto now = open_fds(fd.pid);
    bool same = now == used;
    used = now;
    return same;
  }, 2s);
  // The victim: the instance of the highest pidfd. With the soft limit at
  // the lowest free descriptor number, or at that pidfd if lower, nothing
  // can be opened, not even in the place its pidfd leaves.
  auto fds = pidfds(fd.pid);
  REQUIRE(!fds.empty());
  auto [victim_fd, victim_pid] = *fds.rbegin();
  std::string victim;
  for (auto& [id, pid] : before)
    if (pid == victim_pid) victim = id;
  REQUIRE(!victim.empty());
  int lowest_free = 0;
  while (used.count(lowest_free)) ++lowest_free;
  limit_restorer restore{fd.pid};
  set_soft_limit(fd.pid, static_cast<rlim_t>(std::min(lowest_free, victim_fd)));
  REQUIRE(::kill(victim_pid, SIGKILL) == 0);

  // Said in the log and events: a retry, not a failure for good.
  INFO(victim);
  REQUIRE(wait_until([&] {
    for (auto& l : event_lines(fd, "spawn_retry", victim))
      if (l.find("Too many open files") != std::string::npos) return true;
    return false;
  }));
  CHECK(event_lines(fd, "spawn_failed", victim).empty());
  CHECK(event_lines(fd, "gave_up", victim).empty());

  // Descriptors again: it comes back by itself, no `start`.
  REQUIRE(raise_soft_limit(fd.pid));
  CHECK(wait_until([&] {
    auto i = fd.instance(victim);
    return is_up(i["state"]) && i["pid"].get<int>() != victim_pid;
  }));
  auto inst = fd.instance(victim);
  INFO(inst.dump());
  CHECK(inst["restarts"].get<int>() >= 1);
  auto events = fd.cli({"events", "-n", "200", "--json"});
  REQUIRE(events.rc == 0);
  size_t retries = 0;
  std::istringstream lines(events.out);
  for (std::string l; std::getline(lines, l);) {
    auto e = nlohmann::json::parse(l);
    if (e["event"] == "spawn_retry" && e["offender"] == victim) ++retries;
  }
  CHECK(retries >= 1);
  // The rest ran on, untouched.
  auto after = pids_of(fd.home);
  for (auto& [id, pid] : before)
    if (id != victim) CHECK(after.at(id) == pid);
  fd.down_and_check_clean();
}
