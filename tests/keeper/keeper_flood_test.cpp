// A flood while no daemon is connected: the keeper keeps every line, the
// files rotating as the pump rotates them.

#include <catch2/catch.hpp>

#include "fake_daemon.hpp"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>

using namespace arbor::keeper;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;

namespace {

constexpr size_t line_size = 100;  // "000001234 xxx...x\n"
constexpr size_t lines_per_write = 640;

/// Forks a writer that writes `count` numbered lines of line_size bytes to
/// `out`, lines_per_write per write(), paced at `rate` bytes a second (as an
/// app that produces that much would: it is not ahead of that rate, and
/// behind it only if its pipe blocks it). SIGPIPE at its default.
pid_t spawn_flooder(int out, uint64_t count, double rate) {
  pid_t pid = ::fork();
  if (pid != 0)
    return pid;
  ::signal(SIGPIPE, SIG_DFL);
  ::dup2(out, 3);
  ::close_range(4, ~0U, 0);
  std::string chunk;
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (uint64_t i = 0; i < count;) {
    chunk.clear();
    for (size_t n = 0; n < lines_per_write && i < count; ++n, ++i) {
      char head[16];
      std::snprintf(head, sizeof head, "%09" PRIu64 " ", i);
      chunk += head;
      chunk.append(line_size - 11, 'x');
      chunk += '\n';
    }
    double due = static_cast<double>(i * line_size) / rate; // seconds since start
    timespec at = start;
    at.tv_sec += static_cast<time_t>(due);
    at.tv_nsec += static_cast<long>((due - static_cast<double>(static_cast<time_t>(due))) * 1e9);
    if (at.tv_nsec >= 1000000000L) {
      at.tv_sec += 1;
      at.tv_nsec -= 1000000000L;
    }
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
    for (size_t done = 0; done < chunk.size();) {
      ssize_t w = ::write(3, chunk.data() + done, chunk.size() - done);
      if (w <= 0)
        ::_exit(3);
      done += static_cast<size_t>(w);
    }
  }
  ::_exit(0);
}

} // namespace

TEST_CASE("keeper: 50 MB/s for 2 s with no daemon connected: every line in the files") {
  temp_dir home;
  auto log = home / "app.out.log";
  std::unique_ptr<process> k;
  keeper_client d1;
  start_daemon(d1, home.path, k);
  pipe_pair p;
  std::string err;
  // Room for all of it: 108 MB in files of at most 16 MiB, 10 kept.
  const arbor::logs::rotation rotate{16 << 20, 10};
  REQUIRE(d1.hold("app#0.out", p.r, log, "app#0 | ", "", err, rotate));
  p.close_r();
  d1.close(); // the daemon is gone

  const uint64_t count = 1000000; // 100 MB: 2 s at 50 MB/s
  auto t0 = std::chrono::steady_clock::now();
  process writer{spawn_flooder(p.w, count, 50e6), true};
  p.close_w();
  int status = writer.wait_status(60s);
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(status == 0); // neither SIGPIPE nor a failed write
  // Every writer gone: the keeper writes the rest, sees the end of the pipe
  // and, holding nothing, leaves.
  REQUIRE(k->wait_status(30s) == 0);
  std::cout << "keeper flood: " << count * line_size / 1e6 << " MB written by the app in " << took
            << " s (" << count * line_size / 1e6 / took << " MB/s) with no daemon connected\n";

  auto files = rotation_set(log);
  CHECK(files.size() == 7); // 108 MB in 16 MiB files
  uint64_t next = 0, broken = 0;
  for (auto& f : files) {
    CHECK(slurp(f).size() <= rotate.max_size);
    for (auto& line : lines_of(f)) {
      const std::string want_head = "app#0 | ";
      if (line.size() != want_head.size() + line_size - 1 || line.compare(0, 8, want_head) != 0
          || std::strtoull(line.c_str() + 8, nullptr, 10) != next) {
        if (++broken < 5)
          FAIL_CHECK("line " << next << " is '" << line.substr(0, 40) << "...'");
      }
      ++next;
    }
  }
  CHECK(broken == 0);
  CHECK(next == count);
}
