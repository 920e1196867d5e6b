// `arbor up` has the keeper start the daemon: every daemon is the keeper's
// child, and the keeper a child subreaper, so what a dead daemon started
// becomes the keeper's, is reaped by it, and its exit status waits there for
// the next daemon (exit_status).

#include <catch2/catch.hpp>

#include "fake_daemon.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>

#include <fcntl.h>
#include <sys/file.h>

using namespace arbor::keeper;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;

namespace {

/// Connects to `home`'s keeper, starting it; `k` watches it.
void connect(keeper_client& c, const std::string& home, std::unique_ptr<process>& k) {
  std::string err;
  REQUIRE(c.connect_or_spawn(home, keeper_bin, err, 5s, {"--idle-flush", "50"}));
  REQUIRE(adopting);
  k = std::make_unique<process>(c.keeper_pid(), true);
}

bool gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH; // a zombie still counts as there
}

} // namespace

TEST_CASE("keeper: a daemon it started leaves an orphan: reaped, its exit status kept until asked") {
  temp_dir home;
  auto started = home / "started";
  auto orphan_file = home / "orphan";
  std::unique_ptr<process> k;
  keeper_client c;
  connect(c, home.path, k);
  // The "daemon" leaves a process that exits 7 a moment after it, and dies
  // before any hello.
  std::string err;
  pid_t daemon = c.start_daemon(
    {"/bin/sh", "-c",
     "echo started >> " + started + "; (sleep 0.2; exit 7) & echo $! > " + orphan_file + "; exit 0"},
    {"PATH=/usr/bin:/bin"}, err);
  INFO(err);
  REQUIRE(daemon > 0);
  pid_t orphan = 0;
  REQUIRE(wait_until([&] {
    std::ifstream in{orphan_file};
    return static_cast<bool>(in >> orphan) && orphan > 0;
  }));
  // The keeper reaps both: no zombie is left for pid 1.
  REQUIRE(wait_until([&] { return gone(daemon) && gone(orphan); }, 10s));
  CHECK_FALSE(c.exit_status(orphan, 12345, err)); // another process that had its pid
  auto status = c.exit_status(orphan, 0, err);
  REQUIRE(status);
  CHECK_FALSE(status->signaled);
  CHECK(status->code == 7);
  CHECK_FALSE(c.exit_status(orphan, 0, err)); // taken: forgotten
  CHECK(c.connected());
  // A daemon started for `up` that dies before its hello is not started again.
  CHECK(lines_of(started) == std::vector<std::string>{"started"});
  auto log = slurp(home / "keeper.log");
  INFO(log);
  CHECK(log.find("event=daemon_exited_before_hello daemon_pid=" + std::to_string(daemon))
        != std::string::npos);
  ::kill(k->pid, SIGTERM);
  CHECK(k->wait_status(5s) != -1);
}

TEST_CASE("keeper: start is refused while another daemon holds the home's lock") {
  temp_dir home;
  int lock = ::open((home / "arbor.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX | LOCK_NB) == 0);
  std::unique_ptr<process> k;
  keeper_client c;
  connect(c, home.path, k);
  std::string err;
  CHECK(c.start_daemon({"/bin/sh", "-c", "touch " + home / "started"}, {}, err) == 0);
  CHECK(err == "another daemon holds arbor.lock");
  CHECK_FALSE(exists(home / "started"));
  ::close(lock);
  ::kill(k->pid, SIGTERM);
  CHECK(k->wait_status(5s) != -1);
}

TEST_CASE("keeper: exit_status of a stopped keeper gives up after its wait") {
  temp_dir home;
  std::unique_ptr<process> k;
  keeper_client c;
  connect(c, home.path, k);
  REQUIRE(::kill(k->pid, SIGSTOP) == 0);
  std::string err;
  CHECK_FALSE(c.exit_status(12345, 0, err, 50ms));
  CHECK(err == "the keeper did not answer within 50 ms");
  ::kill(k->pid, SIGCONT);
  // Its late answer is skipped: the next one is for the pid asked.
  err.clear();
  CHECK_FALSE(c.exit_status(23456, 0, err, 5s));
  CHECK(err.empty());
  ::kill(k->pid, SIGTERM);
  CHECK(k->wait_status(5s) != -1);
}
