// Adopted orphans: reap_orphans, and the exit watcher's sweeps (on SIGCHLD
// when it is blocked everywhere, else once a second).

#include <catch2/catch.hpp>

#include "os/exit_watcher.hpp"
#include "os/orphans.hpp"
#include "os/spawn.hpp"
#include "util.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::os::test::reap;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string child_bin = ARBOR_TEST_CHILD;

/// Blocks or unblocks SIGCHLD in this thread; pthread_sigmask's result.
int mask_sigchld(int how) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  return pthread_sigmask(how, &chld, nullptr);
}

/// This process as a child subreaper in a temporary directory; the signal
/// mask as it was, restored at the end.
struct subreaper_scope {
  std::string dir;
  sigset_t old_mask{};
  subreaper_scope() {
    REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    char tmpl[] = "/tmp/arbor-orphans.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    pthread_sigmask(SIG_SETMASK, nullptr, &old_mask);
  }
  ~subreaper_scope() {
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    if (DIR* d = opendir(dir.c_str())) {
      while (const dirent* e = readdir(d))
        if (e->d_name[0] != '.')
          unlink((dir + "/" + e->d_name).c_str());
      closedir(d);
    }
    rmdir(dir.c_str());
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
};

/// A running orphan of ours: a `grandchild` whose parent exited (and was
/// reaped). It is in that parent's process group, so not a group leader.
pid_t make_orphan(const subreaper_scope& scope, int n) {
  const std::string pidfile = scope.dir + "/gpid" + std::to_string(n);
  spawn_plan plan{child_bin, {child_bin, "grandchild", pidfile, "exit"}, {}, ""};
  auto res = plan.spawn(-1, -1);
  REQUIRE(res.ok());
  REQUIRE(reap(res.pid)); // it wrote the pidfile first
  pid_t gpid = 0;
  std::ifstream{pidfile} >> gpid;
  REQUIRE(gpid > 1);
  return gpid;
}

/// Kills `pid` (our child) and waits until it is a zombie.
void kill_to_zombie(pid_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  REQUIRE(fd >= 0);
  REQUIRE(kill(pid, SIGKILL) == 0);
  pollfd p{fd, POLLIN, 0};
  CHECK(poll(&p, 1, 10000) == 1);
  close(fd);
}

/// Polls (bounded) until `pid` is gone, i.e. reaped: a zombie still answers
/// kill(pid, 0). Returns how long that took, or nothing.
std::optional<std::chrono::milliseconds> time_until_reaped(pid_t pid,
                                                          std::chrono::milliseconds timeout) {
  const auto t0 = clock_type::now();
  while (clock_type::now() - t0 < timeout) {
    if (kill(pid, 0) != 0 && errno == ESRCH)
      return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
    std::this_thread::sleep_for(1ms);
  }
  return std::nullopt;
}

/// voluntary_ctxt_switches of thread `tid` of this process: its wake-ups.
long wakeups_of(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string key;
  long value = -1;
  while (in >> key) {
    if (key == "voluntary_ctxt_switches:") {
      in >> value;
      break;
    }
  }
  return value;
}

/// The threads of this process other than the caller.
std::vector<pid_t> other_threads() {
  std::vector<pid_t> out;
  const pid_t me = static_cast<pid_t>(syscall(SYS_gettid));
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.' && std::atoi(e->d_name) != me)
        out.push_back(std::atoi(e->d_name));
    closedir(d);
  }
  return out;
}

} // namespace

TEST_CASE("reap_orphans: reaps exited orphans, never a watched pid", "[orphans]") {
  subreaper_scope scope;
  // A zombie child in our own process group (not a group leader): fork.
  pid_t forked = fork();
  REQUIRE(forked >= 0);
  if (forked == 0)
    _exit(0);
  kill_to_zombie(make_orphan(scope, 0)); // and an orphan, killed
  // Wait for the forked one to be a zombie too.
  {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, forked, 0));
    REQUIRE(fd >= 0);
    pollfd p{fd, POLLIN, 0};
    REQUIRE(poll(&p, 1, 10000) == 1);
    close(fd);
  }
  // Watched: a thousand pids in no order, the forked one among them.
  std::vector<pid_t> watched;
  for (pid_t p = 4000000; watched.size() < 1000; p -= 7)
    watched.push_back(p);
  watched[537] = forked;
  std::reverse(watched.begin(), watched.end());
  CHECK(reap_orphans(watched) == 1); // the orphan only
  CHECK(kill(forked, 0) == 0);       // still a zombie: its owner's to reap
  CHECK(reap_orphans({}) == 1);      // unwatched now: reaped
  errno = 0;
  CHECK(kill(forked, 0) == -1);
  CHECK(errno == ESRCH);
  CHECK(reap_orphans({}) == 0);
}

TEST_CASE("reap_orphans: a fresh process-group leader is left to its owner", "[orphans]") {
  subreaper_scope scope;
  spawn_plan plan{child_bin, {child_bin, "exit", "0"}, {}, ""};
  auto res = plan.spawn(-1, -1); // leads its own group, like a health check's shell
  REQUIRE(res.ok());
  int fd = static_cast<int>(syscall(SYS_pidfd_open, res.pid, 0));
  REQUIRE(fd >= 0);
  pollfd p{fd, POLLIN, 0};
  REQUIRE(poll(&p, 1, 10000) == 1);
  close(fd);
  CHECK(reap_orphans({}) == 0);
  CHECK(reap(res.pid)); // the owner still can
}

TEST_CASE("exit_watcher: with SIGCHLD blocked, an orphan is reaped on SIGCHLD, no timer",
          "[exit_watcher][orphans]") {
  subreaper_scope scope;
  // As the daemon does first thing in main: SIGCHLD blocked before any
  // thread exists (here: before the watcher's thread).
  REQUIRE(mask_sigchld(SIG_BLOCK) == 0);
  REQUIRE(other_threads().empty());
  exit_watcher w;
  CHECK(w.orphan_mode() == exit_watcher::orphan_reaping::off);
  w.reap_adopted_orphans();
  REQUIRE(w.orphan_mode() == exit_watcher::orphan_reaping::on_sigchld);
  w.reap_adopted_orphans(); // a second call changes nothing
  CHECK(w.orphan_mode() == exit_watcher::orphan_reaping::on_sigchld);

  // Reaped within the sweep delay (100 ms) plus scheduling, each time: a
  // 1 s timer would land under 400 ms in 5 rounds with odds of 1 in 100.
  for (int round = 1; round <= 5; ++round) {
    const pid_t orphan = make_orphan(scope, round);
    kill_to_zombie(orphan);
    auto took = time_until_reaped(orphan, 5s);
    INFO("round " << round);
    REQUIRE(took.has_value());
    CHECK(*took < 400ms);
  }

  // Idle: the watcher thread does not wake (a 1 s timer would, twice).
  const auto threads = other_threads();
  REQUIRE(threads.size() == 1);
  const long before = wakeups_of(threads[0]);
  REQUIRE(before >= 0);
  long now = before;
  for (auto until = clock_type::now() + 2100ms; now == before && clock_type::now() < until;) {
    std::this_thread::sleep_for(50ms); // watching for a wake-up that must not come
    now = wakeups_of(threads[0]);
  }
  CHECK(now == before);
}

TEST_CASE("exit_watcher: without SIGCHLD blocked, orphans are reaped once a second",
          "[exit_watcher][orphans]") {
  subreaper_scope scope;
  REQUIRE(mask_sigchld(SIG_UNBLOCK) == 0);
  exit_watcher w;
  w.reap_adopted_orphans();
  REQUIRE(w.orphan_mode() == exit_watcher::orphan_reaping::every_second);
  const pid_t orphan = make_orphan(scope, 1);
  kill_to_zombie(orphan);
  auto took = time_until_reaped(orphan, 5s);
  REQUIRE(took.has_value());
  CHECK(*took < 1500ms);
}
