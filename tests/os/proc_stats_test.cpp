// /proc/<pid>/stat parsing and sample_trees: whole process trees, walked
// from their roots.

#include <catch2/catch.hpp>

#include "stats_util.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;
using namespace arbor::os::test;
using namespace std::chrono_literals;

// --- parsing -----------------------------------------------------------------

TEST_CASE("proc_stats: a stat line parses from the last ')'", "[proc_stats]") {
  // comm "a) b (c) d" holds spaces and both parentheses.
  const std::string line =
    "4321 (a) b (c) d) S 17 4321 4321 0 -1 4194560 100 0 0 0 "
    "250 75 9 3 20 0 1 0 123456 8388608 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 "
    "0 0 17 1 0 0 0 0 0\n";
  detail::stat_fields f;
  REQUIRE(detail::parse_stat(line, f));
  CHECK(f.pid == 4321);
  CHECK(f.state == 'S');
  CHECK(f.ppid == 17);
  CHECK(f.utime == 250);
  CHECK(f.stime == 75);
  CHECK(f.cutime == 9);
  CHECK(f.cstime == 3);
  CHECK(f.start == 123456);
  CHECK(f.rss_pages == 2048);

  SECTION("fields after rss may be cut off") {
    const std::string cut = "7 (x) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 4096 12";
    REQUIRE(detail::parse_stat(cut, f));
    CHECK(f.pid == 7);
    CHECK(f.rss_pages == 12);
    CHECK(f.start == 99);
  }
  SECTION("malformed lines are refused") {
    CHECK_FALSE(detail::parse_stat("", f));
    CHECK_FALSE(detail::parse_stat("12 (x) S 1 2 3", f));          // cut before rss
    CHECK_FALSE(detail::parse_stat("12 x S 1 2 3 4 5 6 7 8", f));  // no comm
    CHECK_FALSE(detail::parse_stat("zz (x) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 4096 12", f));
    CHECK_FALSE(detail::parse_stat("7 (x) R 1 7 7 0 -1 0 0 0 0 0 5 six 0 0 20 0 1 0 99 4096 12", f));
  }
}

// --- sample_trees --------------------------------------------------------------

TEST_CASE("sample_trees: one process allocating 64 MiB shows at least 64 MiB", "[proc_stats]") {
  child a{{"alloc", "64"}};
  REQUIRE(a.ready());
  auto s = sample_trees({a.pid()});
  REQUIRE(s.size() == 1);
  CHECK(s[0].root == a.pid());
  CHECK(s[0].processes == 1);
  CHECK(s[0].rss_bytes >= 64 * mib);
  CHECK(s[0].rss_bytes < 96 * mib);
  CHECK(s[0].root_start > 0);
}

TEST_CASE("sample_trees: a tree of 3 children × 32 MiB counts the children", "[proc_stats]") {
  child t{{"tree", "3", "32"}};
  REQUIRE(t.ready());
  auto s = sample_trees({t.pid()});
  REQUIRE(s.size() == 1);
  CHECK(s[0].processes == 4);
  CHECK(s[0].rss_bytes >= 96 * mib);
}

TEST_CASE("sample_trees: a missing root yields zeros", "[proc_stats]") {
  const pid_t none = impossible_pid();
  auto s = sample_trees({none});
  REQUIRE(s.size() == 1);
  CHECK(s[0].root == none);
  CHECK(s[0].processes == 0);
  CHECK(s[0].rss_bytes == 0);
  CHECK(s[0].cpu_ticks == 0);
  CHECK(s[0].root_start == 0);
  CHECK(sample_trees({}).empty());
}

TEST_CASE("sample_trees: each root sums its own tree only, in one pass", "[proc_stats]") {
  child a{{"alloc", "64"}};
  child b{{"alloc", "64"}};
  REQUIRE(a.ready());
  REQUIRE(b.ready());
  const pid_t none = impossible_pid();
  auto s = sample_trees({a.pid(), none, b.pid(), getpid()});
  REQUIRE(s.size() == 4);
  CHECK(s[0].root == a.pid());
  CHECK(s[1].root == none);
  CHECK(s[2].root == b.pid());
  // Siblings do not leak into each other's sums...
  for (size_t i : {size_t{0}, size_t{2}}) {
    CHECK(s[i].processes == 1);
    CHECK(s[i].rss_bytes >= 64 * mib);
    CHECK(s[i].rss_bytes < 96 * mib);
  }
  CHECK(s[1].processes == 0);
  // ...but their parent (this test) has both below it.
  CHECK(s[3].processes >= 3);
  CHECK(s[3].rss_bytes >= 128 * mib);
}

TEST_CASE("sample_trees: a comm with spaces and ')' is read right", "[proc_stats]") {
  temp_dir dir;
  const std::string odd = dir.link("x) (y z", child_bin); // comm = basename of the path
  child a{{"alloc", "16"}, odd};
  REQUIRE(a.ready());
  std::ifstream comm("/proc/" + std::to_string(a.pid()) + "/comm");
  std::string name;
  std::getline(comm, name);
  REQUIRE(name == "x) (y z");
  auto s = sample_trees({a.pid()});
  REQUIRE(s.size() == 1);
  CHECK(s[0].processes == 1);
  CHECK(s[0].rss_bytes >= 16 * mib);
}

TEST_CASE("sample_trees: reads the root's descendants only, not the rest of /proc",
          "[proc_stats]") {
  child t{{"tree", "2", "0"}};         // the root and 2 children
  child other{{"tree", "3", "0"}};     // unrelated: never read
  REQUIRE(t.ready());
  REQUIRE(other.ready());
  const uint64_t before = detail::stat_reads();
  auto s = sample_trees({t.pid()});
  const uint64_t reads = detail::stat_reads() - before;
  REQUIRE(s.size() == 1);
  CHECK(s[0].processes == 3);
  // One stat per member of the tree (a scan of /proc would read every
  // process on the machine: this test, `other` and its 3 children at least).
  CHECK(reads == 3);

  SECTION("a root listed twice is walked once") {
    const uint64_t again = detail::stat_reads();
    auto d = sample_trees({t.pid(), t.pid()});
    REQUIRE(d.size() == 2);
    CHECK(d[0].processes == 3);
    CHECK(d[1].processes == 3);
    CHECK(d[1].root_start == d[0].root_start);
    CHECK(detail::stat_reads() - again == 3);
  }
}

TEST_CASE("sample_trees: the walk and the full scan agree (children forked by a thread too)",
          "[proc_stats]") {
  // A child forked by a second thread is listed under that thread's
  // /proc/<pid>/task/<tid>/children, not the main thread's.
  std::mutex mtx;
  std::condition_variable cv;
  bool spawned = false, done = false;
  pid_t by_thread = -1;
  std::thread forker([&] {
    spawn_plan plan{child_bin, {child_bin, "tree", "2", "0"}, {}, ""};
    auto res = plan.spawn(-1, -1);
    std::unique_lock<std::mutex> lock{mtx};
    by_thread = res.ok() ? res.pid : -1;
    spawned = true;
    cv.notify_all();
    cv.wait(lock, [&] { return done; }); // alive while we sample
  });
  struct finish {
    std::mutex& mtx;
    std::condition_variable& cv;
    bool& done;
    std::thread& t;
    pid_t& pid;
    ~finish() {
      {
        std::lock_guard<std::mutex> guard{mtx};
        done = true;
      }
      cv.notify_all();
      t.join();
      if (pid > 1) {
        kill(-pid, SIGKILL);
        reap(pid);
      }
    }
  } at_exit{mtx, cv, done, forker, by_thread};
  {
    std::unique_lock<std::mutex> lock{mtx};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return spawned; }));
  }
  REQUIRE(by_thread > 1);
  child own{{"tree", "1", "8"}}; // forked by the main thread
  REQUIRE(own.ready());
  // The thread's child has its own 2 children once they run: wait for them.
  bool three = false;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !three && std::chrono::steady_clock::now() < until;)
    if (!(three = sample_trees({by_thread})[0].processes == 3))
      std::this_thread::sleep_for(2ms); // polling /proc until the children run
  REQUIRE(three);

  const std::vector<pid_t> roots{getpid(), by_thread, own.pid(), impossible_pid()};
  auto walked = sample_trees(roots);
  detail::force_full_scan(true);
  const uint64_t before = detail::stat_reads();
  auto scanned = sample_trees(roots);
  const uint64_t scan_reads = detail::stat_reads() - before;
  detail::force_full_scan(false);
  REQUIRE(walked.size() == 4);
  REQUIRE(scanned.size() == 4);
  for (size_t i = 0; i < roots.size(); ++i) {
    INFO("root " << roots[i]);
    CHECK(walked[i].processes == scanned[i].processes);
    CHECK(walked[i].root_start == scanned[i].root_start);
  }
  CHECK(walked[0].processes >= 6); // us, the thread's 3, our `own` 2
  CHECK(walked[1].processes == 3);
  CHECK(walked[2].processes == 2);
  CHECK(walked[2].rss_bytes >= 8 * mib);
  CHECK(walked[3].processes == 0);
  CHECK(scan_reads > walked[0].processes); // the fallback reads all of /proc
}

// --- cost ----------------------------------------------------------------------

// Hidden: `os_tests "[.bench]"`. Brings the machine to about 1000 processes
// with one `tree` child and times sample_trees.
TEST_CASE("sample_trees: cost of one pass over ~1000 processes", "[.bench]") {
  uint32_t before = 0;
  if (DIR* dir = opendir("/proc")) {
    while (const dirent* ent = readdir(dir))
      before += ent->d_name[0] >= '1' && ent->d_name[0] <= '9';
    closedir(dir);
  }
  const long extra = before < 1000 ? 1000 - static_cast<long>(before) - 1 : 0;
  child t{{"tree", std::to_string(extra), "0"}};
  REQUIRE(t.ready());
  const pid_t none = impossible_pid();
  const std::vector<pid_t> roots{t.pid(), getpid(), 1, none};
  std::vector<proc_sample> s;
  constexpr int passes = 200;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < passes; ++i)
    s = sample_trees(roots);
  const auto dt = std::chrono::steady_clock::now() - t0;
  const double us = std::chrono::duration<double, std::micro>(dt).count() / passes;
  std::printf("sample_trees: %u processes in /proc, %zu roots: %.0f us per pass\n",
              before + static_cast<uint32_t>(extra) + 1, roots.size(), us);
  CHECK(s[0].processes == static_cast<uint32_t>(extra) + 1);
}

TEST_CASE("proc_stats: a root stopped by SIGSTOP is sampled as stopped, and not after SIGCONT",
          "[proc_stats]") {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  REQUIRE(::kill(pid, SIGSTOP) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, WUNTRACED) == pid); // it is stopped now
  CHECK(sample_trees({pid}).front().root_stopped);
  REQUIRE(::kill(pid, SIGCONT) == 0);
  REQUIRE(::waitpid(pid, &status, WCONTINUED) == pid);
  CHECK_FALSE(sample_trees({pid}).front().root_stopped);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
}
