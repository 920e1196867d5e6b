// A daemon that sent its command with hello and dies is started again by the
// keeper: bounded, and never while another daemon holds the home's lock.

#include <catch2/catch.hpp>

#include "fake_daemon.hpp"

#include <algorithm>
#include <csignal>

#include <fcntl.h>
#include <sys/file.h>

using namespace arbor::keeper;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;

namespace {

/// How often `what` occurs in `text`.
size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

/// A daemon played by a child process: it starts the keeper of `home` with
/// `keeper_args`, says hello with `command` and waits to be killed. `k`
/// watches the keeper (ours: we adopt orphans).
struct dying_daemon {
  std::unique_ptr<process> self;

  dying_daemon(const std::string& home, const std::vector<std::string>& command,
               const std::vector<std::string>& env, std::vector<std::string> keeper_args,
               std::unique_ptr<process>& k) {
    REQUIRE(adopting);
    pipe_pair said;
    keeper_args.insert(keeper_args.end(), {"--idle-flush", "50"});
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      keeper_client d;
      d.set_command(command, env);
      std::string err;
      auto handed = d.start(home, keeper_bin, err, std::chrono::seconds(5), keeper_args);
      int32_t keeper = handed ? d.keeper_pid() : 0;
      if (::write(said.w, &keeper, sizeof keeper) != sizeof keeper)
        ::_exit(3);
      ::pause();
      ::_exit(0);
    }
    self = std::make_unique<process>(pid, true);
    said.close_w();
    int32_t keeper = 0;
    REQUIRE(::read(said.r, &keeper, sizeof keeper) == sizeof keeper);
    REQUIRE(keeper > 0);
    k = std::make_unique<process>(keeper, true);
  }

  void kill() {
    ::kill(self->pid, SIGKILL);
    REQUIRE(self->wait_status(5s) != -1);
  }
};

} // namespace

TEST_CASE("keeper: a daemon that keeps dying is started again, then given up on") {
  temp_dir home;
  auto started = home / "started";
  std::unique_ptr<process> k;
  // The "daemon" it starts says where it ran, with the environment it got, and dies.
  dying_daemon d{home.path,
                 {"/bin/sh", "-c", "echo \"started $MARK\" >> " + started},
                 {"MARK=from-hello", "PATH=/usr/bin:/bin"},
                 {"--replace-limit", "3"},
                 k};
  d.kill();
  // Three deaths within the period (the first daemon and two it started):
  // it gives up, and with nothing to keep it leaves.
  CHECK(k->wait_status(10s) == 0);
  auto log = slurp(home / "keeper.log");
  INFO(log);
  CHECK(count_of(log, "event=daemon_started ") == 2);
  CHECK(count_of(log, "event=daemon_gave_up ") == 1);
  CHECK(lines_of(started) == std::vector<std::string>{"started from-hello", "started from-hello"});
}

TEST_CASE("keeper: a dead daemon is not replaced while another one holds the home's lock") {
  temp_dir home;
  auto started = home / "started";
  int lock = ::open((home / "arbor.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX | LOCK_NB) == 0); // "a user's arbor up came first"
  std::unique_ptr<process> k;
  dying_daemon d{home.path, {"/bin/sh", "-c", "echo started >> " + started}, {}, {}, k};
  d.kill();
  CHECK(k->wait_status(10s) == 0); // nothing held, nobody to start: it leaves
  auto log = slurp(home / "keeper.log");
  INFO(log);
  CHECK(count_of(log, "event=daemon_not_replaced ") == 1);
  CHECK(count_of(log, "another daemon holds arbor.lock") == 1);
  CHECK_FALSE(exists(started));
  ::close(lock);
}

TEST_CASE("keeper: a daemon that sent no command (arbor run) is not replaced") {
  temp_dir home;
  std::unique_ptr<process> k;
  dying_daemon d{home.path, {}, {}, {}, k};
  d.kill();
  CHECK(k->wait_status(10s) == 0);
  auto log = slurp(home / "keeper.log");
  INFO(log);
  CHECK(count_of(log, "event=daemon_lost ") == 1);
  CHECK(count_of(log, "replace=no") == 1);
  CHECK(count_of(log, "event=daemon_started") == 0);
}
