// The write ledger: what lets the keeper finish or undo the log pump's last
// step when the daemon dies in the middle of it (logs/write_ledger.hpp).

#include <catch2/catch.hpp>

#include "logs/log_pump.hpp"
#include "logs/write_ledger.hpp"
#include "helpers.hpp"

#include <atomic>
#include <csignal>
#include <random>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::logs;
using namespace arbor::logs::test;

namespace {

/// A pipe whose read end does not block, as the pump's and the keeper's.
struct nb_pipe : pipe_pair {
  nb_pipe() { ::fcntl(r, F_SETFL, O_NONBLOCK); }
};

size_t fill(int fd) {
  int n = 0;
  ::ioctl(fd, FIONREAD, &n);
  return static_cast<size_t>(n);
}

std::string drain(int fd) {
  std::string all;
  char buf[4096];
  for (ssize_t r; (r = ::read(fd, buf, sizeof buf)) > 0;)
    all.append(buf, static_cast<size_t>(r));
  return all;
}

uint64_t size_of(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

} // namespace

TEST_CASE("write_ledger: a peek leaves the bytes in the pipe, consume takes exactly n") {
  write_ledger led;
  nb_pipe p;
  char buf[64];
  errno = 0;
  CHECK(led.peek(p.r, buf, sizeof buf) == -1);
  CHECK(errno == EAGAIN);
  REQUIRE(put(p.w, "one\ntwo\n"));
  REQUIRE(led.peek(p.r, buf, sizeof buf) == 8);
  CHECK(std::string(buf, 8) == "one\ntwo\n");
  CHECK(fill(p.r) == 8);
  REQUIRE(led.consume("k", p.r, 4));
  CHECK(fill(p.r) == 4);
  REQUIRE(led.peek(p.r, buf, sizeof buf) == 4);
  CHECK(std::string(buf, 4) == "two\n");
  CHECK(fill(led.trash_fd()) == 0); // emptied after each move
}

TEST_CASE("write_ledger: recovery cuts a half-written file back, or drops what was written") {
  temp_dir tmp;
  auto path = tmp / "f.log";
  write_ledger led;
  nb_pipe p;
  REQUIRE(put(p.w, "line\n"));
  auto find = [&](const std::string& key, ledger_stream& s) {
    if (key != "k")
      return false;
    s.fd = p.r;
    s.path = path;
    return true;
  };
  int f = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(f >= 0);
  REQUIRE(put(f, "old\n"));

  SECTION("killed while writing: the file is cut back, the line stays in the pipe") {
    led.begin_write("k", f);
    REQUIRE(put(f, "p | li")); // the write got this far
    auto did = ledger_recover(led.page_fd(), led.trash_fd(), find);
    CHECK(did.find("cut " + path + " back by 6 bytes") == 0);
    CHECK(slurp(path) == "old\n");
    CHECK(fill(p.r) == 5);
  }
  SECTION("killed after the write, before the move: the written bytes leave the pipe") {
    led.begin_write("k", f);
    REQUIRE(put(f, "p | line\n"));
    // As consume() leaves the page just before its splice().
    auto* page = static_cast<ledger_page*>(
      ::mmap(nullptr, sizeof(ledger_page), PROT_READ | PROT_WRITE, MAP_SHARED, led.page_fd(), 0));
    REQUIRE(page != MAP_FAILED);
    page->take = 5;
    page->trash_before = 0;
    page->phase.store(ledger_page::consuming);
    auto did = ledger_recover(led.page_fd(), led.trash_fd(), find);
    CHECK(did.find("took 5 written bytes of k") == 0);
    CHECK(slurp(path) == "old\np | line\n");
    CHECK(fill(p.r) == 0);
    CHECK(page->phase.load() == ledger_page::idle);
    ::munmap(page, sizeof(ledger_page));
  }
  SECTION("a short write ended inside a line: the cut takes that piece back too") {
    REQUIRE(put(f, "p | li")); // the line's start, its write cut short
    led.begin_write("k", f, 6);
    REQUIRE(put(f, "ne\n"));
    auto did = ledger_recover(led.page_fd(), led.trash_fd(), find);
    CHECK(did.find("cut " + path + " back by 9 bytes") == 0);
    CHECK(slurp(path) == "old\n");
  }
  SECTION("nothing half done, or a stream it does not hold: nothing changes") {
    CHECK(ledger_recover(led.page_fd(), led.trash_fd(), find).empty());
    led.begin_write("other", f);
    REQUIRE(put(f, "x"));
    CHECK(ledger_recover(led.page_fd(), led.trash_fd(), find).empty());
    CHECK(slurp(path) == "old\nx");
    CHECK(fill(p.r) == 5);
  }
  ::close(f);
}

TEST_CASE("write_ledger: a pump SIGKILLed at random moments loses no line and doubles none") {
  std::mt19937 rng{std::random_device{}()};
  int recovered = 0;
  for (int round = 0; round < 200; ++round) {
    temp_dir tmp;
    auto path = log_pump::paths(tmp.path + "/logs", "p").first;
    nb_pipe app;
    int report[2];
    REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) { // the daemon: pumps the app's pipe until it is killed
      ::close(app.w);
      log_pump pump;
      pump.configure({"p", tmp.path + "/logs", 10 << 20, 2, ""});
      pump.adopt_stream("p", 0, stream::out, ::dup(app.r), "K");
      auto fds = pump.ledger_fds();
      int nums[2] = {fds.first, fds.second};
      if (::write(report[1], nums, sizeof nums) != sizeof nums)
        ::_exit(1);
      for (;;)
        ::pause();
    }
    ::close(report[1]);
    int nums[2] = {-1, -1};
    REQUIRE(::read(report[0], nums, sizeof nums) == sizeof nums);
    ::close(report[0]);
    // What the keeper would have been handed with the daemon's hello.
    std::string fd_dir = "/proc/" + std::to_string(child) + "/fd/";
    int page = ::open((fd_dir + std::to_string(nums[0])).c_str(), O_RDWR | O_CLOEXEC);
    int trash = ::open((fd_dir + std::to_string(nums[1])).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(page >= 0);
    REQUIRE(trash >= 0);

    // The app: numbered lines as fast as the pipe takes them.
    std::atomic<bool> stop{false};
    std::atomic<long> sent{0};
    std::thread writer([&] {
      ::fcntl(app.w, F_SETFL, O_NONBLOCK);
      for (long n = 0; !stop.load();) {
        std::string line = "tick " + std::to_string(n) + "\n";
        if (::write(app.w, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
          sent = ++n;
          continue;
        }
        pollfd pfd{app.w, POLLOUT, 0};
        ::poll(&pfd, 1, 10);
      }
    });
    // Kill it at a random point of its work: once the file has grown so far.
    uint64_t target = std::uniform_int_distribution<uint64_t>{64, 256 * 1024}(rng);
    bool grew = wait_until([&] { return size_of(path) >= target; });
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    stop = true;
    writer.join();
    REQUIRE(grew);

    // The keeper's part: finish or undo the last step, then drain the rest.
    auto did = ledger_recover(page, trash, [&](const std::string& key, ledger_stream& s) {
      s.fd = app.r;
      s.path = path;
      return key == "K";
    });
    recovered += did.empty() ? 0 : 1;
    ::close(page);
    ::close(trash);
    std::string text = slurp(path);
    std::string rest = drain(app.r);
    INFO("round " << round << ", recovery: " << did);
    // Every line once, in order: the file's, then the pipe's.
    long next = 0;
    auto follow = [&](const std::string& got, const std::string& prefix) {
      for (size_t pos = 0; pos < got.size(); ++next) {
        std::string want = prefix + "tick " + std::to_string(next) + "\n";
        if (got.compare(pos, want.size(), want) != 0)
          return "at byte " + std::to_string(pos) + ": '" + got.substr(pos, 40) + "', want '" + want + "'";
        pos += want.size();
      }
      return std::string{};
    };
    CHECK(follow(text, "p#0 | ") == "");
    CHECK(follow(rest, "") == "");
    CHECK(next == sent.load());
  }
  // Not asserted (it depends on where the kills land), but worth seeing.
  WARN(recovered << " of 200 kills landed inside a write step");
}
