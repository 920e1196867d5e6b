#include <catch2/catch.hpp>

#include "fake_daemon.hpp"
#include "logs/write_ledger.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace arbor::keeper;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;

namespace {

/// Reads `fd` until end of file (every writer gone), bounded in time.
std::string read_to_eof(int fd, std::chrono::milliseconds timeout) {
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0)
      return data;
    if (n > 0)
      data.append(buf, static_cast<size_t>(n));
  }
  FAIL("no end of file within the timeout");
  return data;
}

} // namespace

TEST_CASE("keeper: with the daemon gone it drains the pipe, the writer never blocks nor dies") {
  temp_dir home;
  auto log = home / "app.out.log";
  std::unique_ptr<process> k;
  keeper_client d1;
  auto handed = start_daemon(d1, home.path, k);
  CHECK(handed->empty());
  pipe_pair p;
  std::string err;
  REQUIRE(d1.hold("app#0.out", p.r, log, "app#0 | ", "", err));

  const uint64_t lines = 150000; // 1.2 MB: far more than the pipe holds
  process writer{spawn_writer(p.w, 0, lines), true};
  p.close_w();
  // While the daemon is connected the keeper leaves the pipe alone: it fills.
  const int capacity = ::fcntl(p.r, F_GETPIPE_SZ);
  REQUIRE(wait_until([&] { return unread(p.r) >= capacity - 4096; }));
  CHECK_FALSE(exists(log));
  CHECK_FALSE(writer.gone(0ms));

  // The daemon dies: its read end and its connection go, without bye.
  p.close_r();
  d1.close();
  int status = writer.wait_status(10s);
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status)); // not SIGPIPE
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(wait_until([&] { return lines_of(log).size() == lines; }));
  auto got = strip(lines_of(log), "app#0 | ");
  for (uint64_t i = 0; i < lines; ++i) {
    if (got[i] + "\n" != number_line(i)) {
      FAIL("line " << i << " is '" << got[i] << "'");
    }
  }
  // The pump's file mode: the keeper writes through the pump's own file code.
  struct stat st{};
  REQUIRE(::stat(log.c_str(), &st) == 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  CHECK((st.st_mode & 0777) == (0644 & ~mask));
  // Every writer gone: the pipe reached its end, nothing is held, no daemon: it leaves.
  CHECK(k->wait_status(5s) == 0);
  CHECK_FALSE(exists(home / "keeper.sock"));
}

TEST_CASE("keeper: a new daemon gets the pipe back, nothing lost or doubled at the handover") {
  temp_dir home;
  auto log = home / "app.out.log";
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  pipe_pair p, gate;
  std::string err;
  REQUIRE(d1.hold("app#0.out", p.r, log, "app#0 | ", "", err));
  // Writes numbered lines without pause until the gate closes, then "end".
  process writer{spawn_writer(p.w, 0, UINT64_MAX / 2, gate.r), true};
  p.close_w();
  gate.close_r();
  p.close_r();
  d1.close(); // dies mid-stream

  REQUIRE(wait_until([&] { return lines_of(log).size() >= 20000; }));
  keeper_client d2;
  auto handed = start_daemon(d2, home.path, k);
  REQUIRE(handed->size() == 1);
  handed_stream s = handed->at(0);
  CHECK(s.id == "app#0.out");
  CHECK(s.path == log);
  CHECK(s.prefix == "app#0 | ");
  CHECK(s.drained > 0);
  CHECK(s.dropped == 0);
  CHECK((::fcntl(s.fd, F_GETFD) & FD_CLOEXEC) != 0);
  const auto in_file = lines_of(log);

  gate.close_w(); // the writer stops soon and says "end"
  std::string rest = read_to_eof(s.fd, 20s);
  ::close(s.fd);
  REQUIRE(writer.wait_status(5s) == 0);
  CHECK(lines_of(log) == in_file); // the keeper stopped reading at hello

  std::vector<std::string> all = strip(in_file, "app#0 | ");
  std::istringstream more{rest};
  size_t after = 0;
  for (std::string line; std::getline(more, line); ++after)
    all.push_back(line);
  CHECK(after > 0);
  REQUIRE(all.size() >= 2);
  REQUIRE(all.back() == "end");
  all.pop_back();
  INFO("in the file: " << in_file.size() << ", read after the handover: " << after);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] + "\n" != number_line(i)) {
      FAIL("line " << i << " is '" << all[i] << "'");
    }
  }
  REQUIRE(d2.bye(err));
  CHECK(k->wait_status(5s) == 0);
}

TEST_CASE("keeper: a daemon killed in the middle of a log write: cut back, every line once") {
  temp_dir home;
  auto log = home / "app.out.log";
  std::unique_ptr<process> k;
  keeper_client d1;
  arbor::logs::write_ledger ledger; // the dying daemon's pump's
  d1.set_ledger(ledger.page_fd(), ledger.trash_fd());
  start_daemon(d1, home.path, k);
  pipe_pair p;
  std::string err;
  REQUIRE(d1.hold("app#0.out", p.r, log, "app#0 | ", "", err));
  REQUIRE(put(p.w, "one\ntwo\n"));
  // Its pump peeked both lines and was writing them when it died.
  int f = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  REQUIRE(f >= 0);
  REQUIRE(put(f, "app#0 | zero\n"));
  ledger.begin_write("app#0.out", f);
  REQUIRE(put(f, "app#0 | one\napp#0 | t"));
  ::close(f);
  p.close_r();
  d1.close();

  // The writer is still there: the keeper holds the pipe and keeps draining.
  const std::string want = "app#0 | zero\napp#0 | one\napp#0 | two\n";
  CHECK(wait_until([&] { return slurp(log) == want; }));
  CHECK(slurp(log) == want);
  p.close_w();
  CHECK(k->wait_status(5s) == 0);
  CHECK(slurp(log) == want);
}

TEST_CASE("keeper: partial lines are written after a pause, long lines are cut") {
  temp_dir home;
  auto log = home / "app.err.log";
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  pipe_pair p;
  std::string err;
  REQUIRE(d1.hold("app#1.err", p.r, log, "app#1 | ", "", err));
  p.close_r();
  d1.close();
  REQUIRE(put(p.w, "prompt> "));
  REQUIRE(wait_until([&] { return lines_of(log) == std::vector<std::string>{"app#1 | prompt> "}; }));
  REQUIRE(put(p.w, std::string(40000, 'x') + "\n"));
  REQUIRE(wait_until([&] { return lines_of(log).size() == 4; }));
  auto lines = lines_of(log);
  CHECK(lines[1] == "app#1 | " + std::string(16384, 'x'));
  CHECK(lines[2] == "app#1 | " + std::string(16384, 'x'));
  CHECK(lines[3] == "app#1 | " + std::string(40000 - 2 * 16384, 'x'));
  p.close_w(); // end of stream: dropped; nothing left: the keeper leaves
  CHECK(k->wait_status(5s) == 0);
}

TEST_CASE("keeper: while the daemon is away files rotate as the pump rotates them, nothing dropped") {
  temp_dir home;
  auto log = home / "app.out.log";
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  pipe_pair p;
  std::string err;
  const arbor::logs::rotation rotate{100000, 10};
  REQUIRE(d1.hold("app#0.out", p.r, log, "app#0 | ", "", err, rotate));
  p.close_r();
  d1.close();
  std::string data;
  for (uint64_t i = 0; i < 40000; ++i)
    data += number_line(i); // 320000 bytes; 640000 in the files with the prefixes
  REQUIRE(put(p.w, data));   // would block forever without the keeper draining
  REQUIRE(wait_until([&] { return unread(p.w) == 0; }));

  keeper_client d2;
  auto handed = start_daemon(d2, home.path, k);
  REQUIRE(handed->size() == 1);
  CHECK(handed->at(0).drained == data.size());
  CHECK(handed->at(0).dropped == 0);
  // The live file and six rotated ones, none past max_size: every line once, in order.
  CHECK(exists(log + ".6"));
  CHECK_FALSE(exists(log + ".7"));
  for (auto& f : rotation_set(log))
    CHECK(slurp(f).size() <= rotate.max_size);
  auto got = strip(rotated_lines(log), "app#0 | ");
  REQUIRE(got.size() == 40000);
  for (uint64_t i = 0; i < got.size(); ++i) {
    if (got[i] + "\n" != number_line(i)) {
      FAIL("line " << i << " is '" << got[i] << "'");
    }
  }
  ::close(handed->at(0).fd);
  REQUIRE(d2.bye(err));
  CHECK(k->wait_status(5s) == 0);
}

TEST_CASE("keeper: hold replaces, release forgets, many streams come back in batches") {
  // 450 write ends + 450 handed read ends: past the usual soft limit of 1024.
  rlimit rl{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  rlimit raised = rl;
  raised.rlim_cur = std::max<rlim_t>(rl.rlim_cur, std::min<rlim_t>(rl.rlim_max, 4096));
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &raised) == 0);
  REQUIRE(raised.rlim_cur >= 2048);

  temp_dir home;
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  std::string err;
  const size_t count = 450; // three messages of at most 200 descriptors
  std::vector<int> writers;
  for (size_t i = 0; i < count; ++i) {
    pipe_pair p;
    std::string id = "app#" + std::to_string(i) + ".out";
    REQUIRE(d1.hold(id, p.r, home / "app.out.log", "app#" + std::to_string(i) + " | ", "%F", err));
    writers.push_back(p.w);
    p.w = -1; // kept; the read end is closed: the keeper has its copy
  }
  pipe_pair replaced, extra;
  REQUIRE(d1.hold("app#7.out", replaced.r, home / "other.log", "app#7 | ", "", err));
  REQUIRE(d1.hold("extra", extra.r, home / "extra.log", "x | ", "", err));
  REQUIRE(d1.release("extra", err));
  REQUIRE(d1.release("never-held", err)); // no error
  d1.close();

  keeper_client d2;
  auto handed = start_daemon(d2, home.path, k);
  REQUIRE(handed->size() == count);
  size_t checked = 0;
  for (auto& s : *handed) {
    INFO(s.id);
    REQUIRE(s.id.size() > 8);
    size_t i = std::stoul(s.id.substr(4));
    CHECK(s.id == "app#" + std::to_string(i) + ".out");
    // Which pipe is it? Write to the one it should be and read it back.
    REQUIRE(i < count);
    REQUIRE(put(i == 7 ? replaced.w : writers[i], i == 7 ? "replacement\n" : std::to_string(i) + "\n"));
    char buf[64] = {};
    ssize_t n = ::read(s.fd, buf, sizeof buf - 1);
    if (i == 7) {
      CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "replacement\n");
      CHECK(s.path == home / "other.log");
      CHECK(s.date_format.empty());
    } else {
      CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == std::to_string(i) + "\n");
      CHECK(s.prefix == "app#" + std::to_string(i) + " | ");
      CHECK(s.date_format == "%F");
    }
    ::close(s.fd);
    ++checked;
  }
  CHECK(checked == count);
  REQUIRE(d2.bye(err));
  CHECK(k->wait_status(5s) == 0);
  for (int w : writers)
    ::close(w);
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

TEST_CASE("keeper: bye makes it exit at once, held pipes and all") {
  temp_dir home;
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  pipe_pair p;
  std::string err;
  REQUIRE(d1.hold("a#0.out", p.r, home / "a.log", "a#0 | ", "", err));
  REQUIRE(d1.bye(err));
  CHECK_FALSE(d1.connected());
  CHECK(k->wait_status(5s) == 0);
  CHECK_FALSE(exists(home / "keeper.sock"));
  // The keeper is gone: calls fail cleanly.
  CHECK_FALSE(d1.hold("a#0.out", p.r, home / "a.log", "a#0 | ", "", err));
  CHECK_FALSE(d1.release("a#0.out", err));
}

TEST_CASE("keeper: one per home, the newest daemon wins, unused it leaves after its grace") {
  temp_dir home;
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  // A second keeper on the same home exits 3, in both modes.
  for (bool foreground : {true, false}) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 2);
      if (foreground)
        ::execl(keeper_bin.c_str(), "arbor-keeper", "--foreground", home.path.c_str(), nullptr);
      else
        ::execl(keeper_bin.c_str(), "arbor-keeper", home.path.c_str(), nullptr);
      ::_exit(127);
    }
    process second{pid, true};
    int status = second.wait_status(5s);
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
  }
  CHECK_FALSE(k->gone(0ms));

  keeper_client d2;
  start_daemon(d2, home.path, k); // same keeper
  std::string err;
  // d1's connection is closed by the keeper: its calls start failing.
  CHECK(wait_until([&] { return !d1.release("x", err); }, 5s));
  REQUIRE(d2.bye(err));
  CHECK(k->wait_status(5s) == 0);

  // Started with nobody saying hello, it leaves after its grace.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int log = ::open((home / "keeper.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(log, 2);
    ::execl(keeper_bin.c_str(), "arbor-keeper", "--foreground", "--startup-grace", "100",
            home.path.c_str(), nullptr);
    ::_exit(127);
  }
  process idle{pid, true};
  CHECK(idle.wait_status(5s) == 0);
  CHECK_FALSE(exists(home / "keeper.sock"));
  CHECK_THAT(slurp(home / "keeper.log"), Catch::Contains("event=listening")
                                           && Catch::Contains("reason=nothing_to_keep"));
}
