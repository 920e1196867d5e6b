#include <catch2/catch.hpp>

#include "os/exit_watcher.hpp"
#include "os/spawn.hpp"
#include "collector.hpp"
#include "util.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::os::test::collector;
using arbor::os::test::reap;
using namespace std::chrono_literals;

namespace {

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const std::string child_bin = ARBOR_TEST_CHILD;

pid_t spawn_child(std::vector<std::string> args) {
  args.insert(args.begin(), child_bin);
  spawn_plan plan{child_bin, args, {}, ""};
  auto res = plan.spawn(-1, -1);
  REQUIRE(res.ok());
  return res.pid;
}


/// Waits (bounded) until `pid` has exited, without reaping it.
bool wait_exited_unreaped(pid_t pid, int timeout_ms = 10000) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return false;
  pollfd p{fd, POLLIN, 0};
  bool ok = poll(&p, 1, timeout_ms) == 1;
  close(fd);
  return ok;
}

} // namespace

TEST_CASE("describe: exit codes and signals", "[exit_watcher]") {
  exit_record r;
  CHECK(describe(r) == "exit(0)");
  r.code = 1;
  CHECK(describe(r) == "exit(1)");
  r.signaled = true;
  r.code = SIGKILL;
  CHECK(describe(r) == "signal(SIGKILL)");
  r.code = SIGSEGV;
  r.core_dumped = true;
  CHECK(describe(r) == "signal(SIGSEGV, core dumped)");
  r.core_dumped = false;
  r.code = SIGRTMIN + 2;
  CHECK(describe(r) == "signal(SIGRTMIN+2)");
}

TEST_CASE("exit_watcher: reports an exit code", "[exit_watcher]") {
  collector got;
  exit_watcher w;
  const auto before = std::chrono::steady_clock::now();
  pid_t pid = spawn_child({"exit", "3"});
  REQUIRE_FALSE(w.watch(pid, got.make()));
  auto recs = got.wait_for(1);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].pid == pid);
  CHECK_FALSE(recs[0].signaled);
  CHECK(recs[0].code == 3);
  CHECK(recs[0].at >= before);
  CHECK(recs[0].at <= std::chrono::steady_clock::now());
  CHECK(describe(recs[0]) == "exit(3)");
  CHECK(w.watched() == 0);
  // Reaped: the pid is no longer our child.
  errno = 0;
  CHECK(waitpid(pid, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("exit_watcher: reports a kill signal", "[exit_watcher]") {
  collector got;
  exit_watcher w;
  pid_t pid = spawn_child({"sleep"});
  REQUIRE_FALSE(w.watch(pid, got.make()));
  CHECK(w.watched() == 1);
  REQUIRE(kill(pid, SIGKILL) == 0);
  auto recs = got.wait_for(1);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].signaled);
  CHECK(recs[0].code == SIGKILL);
  CHECK(describe(recs[0]) == "signal(SIGKILL)");
}

TEST_CASE("exit_watcher: reports a crash", "[exit_watcher]") {
  collector got;
  exit_watcher w;
  pid_t pid = spawn_child({"crash"});
  REQUIRE_FALSE(w.watch(pid, got.make()));
  auto recs = got.wait_for(1);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].signaled);
  CHECK(recs[0].code == SIGSEGV);
  // Whether a core is dumped depends on RLIMIT_CORE and core_pattern.
  CHECK(describe(recs[0])
        == (recs[0].core_dumped ? "signal(SIGSEGV, core dumped)" : "signal(SIGSEGV)"));
}

TEST_CASE("exit_watcher: a child that exited before watch() is reported", "[exit_watcher]") {
  collector got;
  exit_watcher w;
  pid_t pid = spawn_child({"exit", "9"});
  REQUIRE(wait_exited_unreaped(pid)); // a zombie now
  REQUIRE_FALSE(w.watch(pid, got.make()));
  auto recs = got.wait_for(1);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].pid == pid);
  CHECK(recs[0].code == 9);
}

TEST_CASE("exit_watcher: refuses what it cannot reap", "[exit_watcher]") {
  exit_watcher w;
  collector got;
  CHECK(w.watch(0, got.make()) == std::errc::invalid_argument);
  CHECK(w.watch(-1, got.make()) == std::errc::invalid_argument);
  // Not our child: ourselves.
  CHECK(w.watch(getpid(), got.make()) == std::errc::no_child_process);
  // Already reaped.
  pid_t pid = spawn_child({"exit", "0"});
  REQUIRE(reap(pid));
  CHECK(w.watch(pid, got.make()) == std::errc::no_such_process);
  CHECK(w.watched() == 0);
}

TEST_CASE("exit_watcher: 200 children at once, each reported exactly once",
          "[exit_watcher]") {
  collector got;
  exit_watcher w;
  std::map<pid_t, int> expected;
  for (int i = 0; i < 200; ++i) {
    pid_t pid = spawn_child({"exit", std::to_string(i % 50)});
    expected[pid] = i % 50;
    REQUIRE_FALSE(w.watch(pid, got.make()));
  }
  auto recs = got.wait_for(200, 30s);
  REQUIRE(recs.size() == 200);
  std::map<pid_t, int> seen;
  for (const auto& r : recs) {
    CHECK_FALSE(r.signaled);
    CHECK(seen.count(r.pid) == 0);
    seen[r.pid] = r.code;
  }
  CHECK(seen == expected);
  CHECK(w.watched() == 0);
}

TEST_CASE("exit_watcher: the group dies with its leader", "[exit_watcher]") {
  // Adopt orphans so the grandchild is reparented to us and we can reap it
  // by pidfd (no waitpid(-1), no reliance on how pid 1 reaps).
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  char tmpl[] = "/tmp/arbor-gc.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string pidfile = dir + "/gpid";
  struct restore {
    std::string dir, pidfile;
    ~restore() {
      prctl(PR_SET_CHILD_SUBREAPER, 0);
      unlink(pidfile.c_str());
      rmdir(dir.c_str());
    }
  } restore_at_exit{dir, pidfile};

  collector got;
  exit_watcher w;
  pid_t leader = spawn_child({"grandchild", pidfile, "exit"});
  REQUIRE_FALSE(w.watch(leader, got.make()));
  auto recs = got.wait_for(1);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].code == 0);

  // The leader wrote the pidfile (atomically) before it exited.
  pid_t gpid = 0;
  std::ifstream{pidfile} >> gpid;
  REQUIRE(gpid > 1);
  CHECK(getpgid(gpid) == leader); // still in the group, or already dead (-1)

  int gfd = static_cast<int>(syscall(SYS_pidfd_open, gpid, 0));
  REQUIRE(gfd >= 0); // we are its parent now: it stays a zombie until reaped
  pollfd p{gfd, POLLIN, 0};
  CHECK(poll(&p, 1, 5000) == 1);
  siginfo_t info{};
  REQUIRE(waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(gfd), &info, WEXITED) == 0);
  close(gfd);
  CHECK(info.si_code == CLD_KILLED);
  CHECK(info.si_status == SIGKILL);
  errno = 0;
  CHECK(kill(gpid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("exit_watcher: the callback may watch the next child", "[exit_watcher]") {
  // The restart path: the exit of one instance starts the next from the
  // watcher thread's callback.
  collector got;
  int left = 3;
  std::function<void(const exit_record&)> again;
  exit_watcher w; // destroyed first: no callback outlives `again`
  again = [&](const exit_record& r) {
    got.make()(r);
    if (--left > 0) {
      spawn_plan plan{child_bin, {child_bin, "exit", "1"}, {}, ""};
      auto res = plan.spawn(-1, -1);
      if (res.ok())
        w.watch(res.pid, again);
    }
  };
  REQUIRE_FALSE(w.watch(spawn_child({"exit", "1"}), again));
  auto recs = got.wait_for(3);
  CHECK(recs.size() == 3);
}

TEST_CASE("exit_watcher: destructor with children still running returns", "[exit_watcher]") {
  std::vector<pid_t> pids;
  const auto start = std::chrono::steady_clock::now();
  {
    collector got;
    exit_watcher w;
    for (int i = 0; i < 3; ++i) {
      pids.push_back(spawn_child({"sleep"}));
      REQUIRE_FALSE(w.watch(pids.back(), got.make()));
    }
    CHECK(w.watched() == 3);
  }
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  // Neither reaped nor killed by the watcher: still running.
  for (pid_t pid : pids) {
    CHECK(kill(pid, 0) == 0);
    CHECK(waitpid(pid, nullptr, WNOHANG) == 0);
  }
  for (pid_t pid : pids) {
    kill(-pid, SIGKILL);
    CHECK(reap(pid));
  }
}

TEST_CASE("exit_watcher: pids() lists what is watched", "[exit_watcher]") {
  collector c;
  exit_watcher w;
  auto a = spawn_child({"sleep"});
  auto b = spawn_child({"sleep"});
  REQUIRE_FALSE(w.watch(a, c.make()));
  REQUIRE_FALSE(w.watch(b, c.make()));
  auto pids = w.pids();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{std::min(a, b), std::max(a, b)});
  ::kill(a, SIGKILL);
  c.wait_for(1);
  CHECK(w.pids() == std::vector<pid_t>{b});
  ::kill(b, SIGKILL);
  c.wait_for(2);
  CHECK(w.pids().empty());
}
