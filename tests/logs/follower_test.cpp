#include <catch2/catch.hpp>

#include "logs/follower.hpp"
#include "logs/log_pump.hpp"
#include "logs/rotating_file.hpp"
#include "helpers.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace arbor::logs;
using namespace arbor::logs::test;
using namespace std::chrono_literals;

namespace {

/// What a follower emitted, for the test thread to wait on.
struct seen_lines {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> got; // file, line

  log_follower::line_callback make() {
    return [this](const std::string& file, const std::string& line) {
      std::lock_guard<std::mutex> guard{mtx};
      got.emplace_back(file, line);
      cv.notify_all();
    };
  }

  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<std::string> out;
    for (auto& g : got)
      out.push_back(g.second);
    return out;
  }

  /// Waits (bounded) until `n` lines arrived; returns them.
  std::vector<std::string> wait_for(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, timeout, [&] { return got.size() >= n; });
    std::vector<std::string> out;
    for (auto& g : got)
      out.push_back(g.second);
    return out;
  }
};

void append(const std::string& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(put(fd, text));
  ::close(fd);
}

/// Runs a follower on its own thread until the end of the scope.
struct running {
  log_follower& f;
  std::error_code result;
  std::thread thread;
  explicit running(log_follower& follower)
    : f(follower), thread([this] { result = f.run_for(30s); }) {}
  ~running() {
    f.stop();
    thread.join();
  }
};

} // namespace

TEST_CASE("log_follower: prints the last N lines of each file") {
  temp_dir tmp;
  auto a = tmp / "a.log";
  auto b = tmp / "b.log";
  std::string ten;
  for (int i = 1; i <= 10; ++i)
    ten += "a" + std::to_string(i) + "\n";
  append(a, ten);
  append(b, "b1\nb2\nunterminated");

  SECTION("N = 3") {
    seen_lines seen;
    log_follower f{{a, b}, seen.make()};
    f.tail(3);
    CHECK(seen.lines() == std::vector<std::string>{"a8", "a9", "a10", "b1", "b2", "unterminated"});
    CHECK(seen.got.front().first == a);
    CHECK(seen.got.back().first == b);
  }
  SECTION("N = 0 prints nothing") {
    seen_lines seen;
    log_follower f{{a, b}, seen.make()};
    f.tail(0);
    CHECK(seen.lines().empty());
  }
  SECTION("N larger than the file prints all of it") {
    seen_lines seen;
    log_follower f{{a}, seen.make()};
    f.tail(100);
    CHECK(seen.lines().size() == 10);
    CHECK(seen.lines().front() == "a1");
  }
  SECTION("a file that does not exist has no lines") {
    seen_lines seen;
    log_follower f{{tmp / "none.log"}, seen.make()};
    f.tail(5);
    CHECK(seen.lines().empty());
  }
}

TEST_CASE("log_follower: the tail of a file bigger than one read") {
  temp_dir tmp;
  auto a = tmp / "big.log";
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "line " + std::to_string(i) + "\n"; // ~200 KB
  append(a, text);
  seen_lines seen;
  log_follower f{{a}, seen.make()};
  f.tail(15000);
  auto lines = seen.lines();
  REQUIRE(lines.size() == 15000);
  CHECK(lines.front() == "line 5000");
  CHECK(lines.back() == "line 19999");
}

TEST_CASE("log_follower: follow prints appended lines") {
  temp_dir tmp;
  auto a = tmp / "a.log";
  append(a, "old\n");
  seen_lines seen;
  log_follower f{{a}, seen.make()};
  f.tail(0);
  running r{f};
  append(a, "new 1\n");
  append(a, "new 2\npart");
  append(a, "ial\n");
  CHECK(seen.wait_for(3) == std::vector<std::string>{"new 1", "new 2", "partial"});
}

TEST_CASE("log_follower: follows a file created later") {
  temp_dir tmp;
  auto a = tmp / "late.log";
  seen_lines seen;
  log_follower f{{a}, seen.make()};
  f.tail(10);
  running r{f};
  append(a, "first\n");
  CHECK(seen.wait_for(1) == std::vector<std::string>{"first"});
}

TEST_CASE("log_follower: follows across a rotation") {
  temp_dir tmp;
  auto a = tmp / "r.log";
  append(a, "a1\n");
  seen_lines seen;
  log_follower f{{a}, seen.make()};
  f.tail(1);
  REQUIRE(seen.lines() == std::vector<std::string>{"a1"});
  int old = ::open(a.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  REQUIRE(old >= 0);
  running r{f};
  REQUIRE(put(old, "a2\n"));
  REQUIRE(seen.wait_for(2) == std::vector<std::string>{"a1", "a2"});
  // Written just before the rename, so possibly unread when the new file appears.
  REQUIRE(put(old, "a3\n"));
  REQUIRE(std::rename(a.c_str(), (a + ".1").c_str()) == 0);
  ::close(old);
  append(a, "b1\n");
  append(a, "b2\n");
  CHECK(seen.wait_for(5) == std::vector<std::string>{"a1", "a2", "a3", "b1", "b2"});
  std::lock_guard<std::mutex> guard{seen.mtx};
  for (auto& g : seen.got)
    CHECK(g.first == a); // the followed name, also for the rest of the old file
}

TEST_CASE("log_follower: restarts from the start after a truncation") {
  temp_dir tmp;
  auto a = tmp / "t.log";
  append(a, "a fairly long line number one\na fairly long line number two\n");
  seen_lines seen;
  log_follower f{{a}, seen.make()};
  f.tail(0);
  running r{f};
  REQUIRE(::truncate(a.c_str(), 0) == 0);
  append(a, "after\n");
  CHECK(seen.wait_for(1) == std::vector<std::string>{"after"});
}

TEST_CASE("log_follower: run_for returns once its time is up") {
  temp_dir tmp;
  seen_lines seen;
  log_follower f{{tmp / "x.log"}, seen.make()};
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(f.run_for(50ms));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 50ms);
  CHECK(took < 5s);
}

TEST_CASE("log_follower: a missing directory is an error") {
  seen_lines seen;
  log_follower f{{"/nonexistent-arbor-dir/x.log"}, seen.make()};
  CHECK(f.run_for(10ms));
}

TEST_CASE("log_follower + log_pump: every line, in order, across many rotations") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path, "e2e").first;
  log_pump pump;
  app_log_config c;
  c.app = "e2e";
  c.dir = tmp.path;
  c.max_size = 200;
  // A burst below rotates the file two or three times; keep enough rotated
  // files that a follower slowed down by a loaded machine can still read
  // them all (with 3, the oldest could be deleted before it looks).
  c.max_files = 10;
  pump.configure(c);
  int w = pump.open_stream("e2e", 0, stream::out);
  REQUIRE(w >= 0);
  REQUIRE(put(w, "hello\n"));
  REQUIRE(wait_until([&] { return !slurp(out).empty(); })); // followed from its end
  seen_lines seen;
  log_follower f{{out}, seen.make()};
  f.tail(10);
  running r{f};
  std::vector<std::string> want{"e2e#0 | hello"};
  for (int i = 0; i < 120; ++i) {
    want.push_back("e2e#0 | line " + std::to_string(i));
    // In bursts: several rotations may happen before the follower looks.
    if (i % 20 == 19) {
      std::string burst;
      for (int k = i - 19; k <= i; ++k)
        burst += "line " + std::to_string(k) + "\n";
      REQUIRE(put(w, burst));
      REQUIRE(seen.wait_for(want.size()).size() == want.size());
    }
  }
  CHECK(seen.wait_for(want.size()) == want);
  CHECK(pump.stats("e2e").rotations >= 5);
  ::close(w);
}

TEST_CASE("log_follower: rotations while it reads the rotated files lose and double nothing") {
  // Each line gets a file of its own, and each line the follower is given
  // writes another one, so every name shifts while it walks the rotated
  // files: it must follow files, not the names it saw.
  temp_dir tmp;
  auto path = tmp / "x.log";
  rotating_file file{path};
  rotation rot{6, 20};
  REQUIRE(file.write("start\n", rot).error.empty());
  std::vector<std::string> got;
  log_follower* self = nullptr;
  int next = 0;
  auto write_next = [&] {
    char line[8];
    std::snprintf(line, sizeof line, "l%02d\n", next++);
    REQUIRE(file.write(line, rot).error.empty());
  };
  log_follower f{{path}, [&](const std::string&, const std::string& line) {
                   got.push_back(line);
                   if (next < 25)
                     write_next();
                   else if (line == "l24")
                     self->stop();
                 }};
  self = &f;
  for (int i = 0; i < 5; ++i)
    write_next(); // five rotations before it looks: "start" is now x.log.5
  CHECK_FALSE(f.run_for(10s));
  std::vector<std::string> want;
  for (int i = 0; i < 25; ++i) {
    char line[8];
    std::snprintf(line, sizeof line, "l%02d", i);
    want.emplace_back(line);
  }
  CHECK(got == want);
}
