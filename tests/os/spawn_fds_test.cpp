// spawn_plan::spawn in a process with thousands of descriptors (a daemon
// with 1000 instances holds ~5000): the child still gets stdio only, the
// spawner keeps no pipe open, and threads may spawn at once.

#include <catch2/catch.hpp>

#include "os/spawn.hpp"
#include "util.hpp"

#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::os::test::read_line;
using arbor::os::test::reap;

namespace {

const std::string child_bin = ARBOR_TEST_CHILD;

std::vector<std::string> child_argv(std::vector<std::string> args) {
  args.insert(args.begin(), child_bin);
  return args;
}

/// `n` pipes (2n descriptors), without close-on-exec, closed at the end.
struct many_pipes {
  std::vector<int> fds;
  explicit many_pipes(int n) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    const rlim_t need = static_cast<rlim_t>(2 * n + 64);
    if (lim.rlim_cur < need && lim.rlim_max >= need) {
      lim.rlim_cur = need;
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    for (int i = 0; i < n; ++i) {
      int p[2];
      if (::pipe(p) != 0)
        break;
      fds.push_back(p[0]);
      fds.push_back(p[1]);
    }
  }
  ~many_pipes() {
    for (int fd : fds)
      ::close(fd);
  }
};

/// Everything the child writes to `fd` until EOF.
std::string drain(int fd) {
  std::string out;
  char buf[256];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1)
      return out + "<timeout>";
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
      return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

} // namespace

TEST_CASE("spawn: among 5000 open descriptors the child still gets stdio only", "[spawn]") {
  many_pipes lots{2500};
  REQUIRE(lots.fds.size() >= 2000); // the descriptor limit allows a daemon-like table
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  spawn_plan plan{child_bin, child_argv({"fds"}), {}, ""};
  auto res = plan.spawn(p[1], -1);
  ::close(p[1]);
  REQUIRE(res.ok());
  CHECK(drain(p[0]) == "0 1 2\n");
  CHECK(reap(res.pid));
  ::close(p[0]);
}

TEST_CASE("spawn: the spawner keeps no copy of the child's pipe", "[spawn]") {
  many_pipes lots{500};
  for (int round = 0; round < 3; ++round) {
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    spawn_plan plan{child_bin, child_argv({"exit", "0"}), {}, ""};
    auto res = plan.spawn(out[1], err[1]);
    REQUIRE(res.ok());
    ::close(out[1]);
    ::close(err[1]);
    REQUIRE(reap(res.pid));
    // Our write ends are closed and the child is gone: end of file at once,
    // unless something in this process still holds a write end.
    CHECK(drain(out[0]).empty());
    CHECK(drain(err[0]).empty());
    ::close(out[0]);
    ::close(err[0]);
  }
}

TEST_CASE("spawn: threads spawning at once each get their own child's output", "[spawn]") {
  many_pipes lots{500};
  constexpr int threads = 4, per_thread = 15;
  std::vector<int> wrong(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([t, &wrong] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string word = "t" + std::to_string(t) + "-" + std::to_string(i);
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) {
          ++wrong[static_cast<size_t>(t)];
          continue;
        }
        spawn_plan plan{child_bin, child_argv({"print", word}), {}, ""};
        auto res = plan.spawn(p[1], -1);
        ::close(p[1]);
        if (!res.ok() || read_line(p[0]) != word)
          ++wrong[static_cast<size_t>(t)];
        if (res.ok()) {
          ::kill(-res.pid, SIGKILL); // "print" pauses after printing
          reap(res.pid);
        }
        ::close(p[0]);
      }
    });
  }
  for (auto& th : pool)
    th.join();
  for (int t = 0; t < threads; ++t)
    CHECK(wrong[static_cast<size_t>(t)] == 0);
}
