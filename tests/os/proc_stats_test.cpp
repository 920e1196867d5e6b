#include <catch2/catch.hpp>

#include "os/proc_stats.hpp"
#include "util.hpp"
#include "os/spawn.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::os::test::read_line;
using arbor::os::test::reap;
using namespace std::chrono_literals;

namespace {

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const std::string child_bin = ARBOR_TEST_CHILD;
constexpr uint64_t mib = 1024 * 1024;



/// A test child in its own process group, stdout on a pipe; the whole group
/// is killed and the child reaped when this leaves scope.
class child {
public:
  explicit child(std::vector<std::string> args, const std::string& path = child_bin) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    args.insert(args.begin(), path);
    spawn_plan plan{path, args, {}, ""};
    auto res = plan.spawn(fds[1], -1);
    close(fds[1]);
    rd_ = fds[0];
    REQUIRE(res.ok());
    pid_ = res.pid;
  }
  ~child() {
    if (pid_ > 1) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      reap(pid_);
    }
    if (rd_ >= 0)
      close(rd_);
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }
  /// Waits (bounded) for the child's "ready" line.
  bool ready() { return read_line(rd_) == "ready"; }

private:
  pid_t pid_ = -1;
  int rd_ = -1;
};

/// A pid that cannot exist: pids are below pid_max.
pid_t impossible_pid() {
  long max = 0;
  std::ifstream in("/proc/sys/kernel/pid_max");
  in >> max;
  return max > 0 && max < INT_MAX ? static_cast<pid_t>(max) : INT_MAX;
}

/// What a sampler reported, for the test thread to wait on.
struct reports {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::vector<std::pair<pid_t, usage>>> seen;

  sampler::sample_fn make() {
    return [this](const std::vector<std::pair<pid_t, usage>>& r) {
      std::lock_guard<std::mutex> guard{mtx};
      seen.push_back(r);
      cv.notify_all();
    };
  }

  /// Waits (bounded) until `pred(seen)` holds; returns whether it did.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, timeout, [&] { return pred(seen); });
  }

  size_t count() {
    std::lock_guard<std::mutex> guard{mtx};
    return seen.size();
  }
};

struct temp_dir {
  std::string path;
  std::vector<std::string> links;
  temp_dir() {
    char tmpl[] = "/tmp/arbor-stats-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    for (const auto& l : links)
      unlink(l.c_str());
    rmdir(path.c_str());
  }
  std::string link(const std::string& name, const std::string& target) {
    std::string p = path + "/" + name;
    REQUIRE(symlink(target.c_str(), p.c_str()) == 0);
    links.push_back(p);
    return p;
  }
};

} // namespace

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

// --- sampler -----------------------------------------------------------------

TEST_CASE("sampler: a spinning child shows CPU use (above 5%, on a loaded machine too)", "[proc_stats][sampler]") {
  child spin{{"spin"}};
  const pid_t pid = spin.pid();
  reports r;
  sampler s{[pid] { return std::vector<pid_t>{pid}; }, 100ms, r.make()};
  const bool busy = r.wait([&](const auto& seen) {
    return !seen.empty() && seen.back().size() == 1 && seen.back()[0].second.cpu_percent
           && *seen.back()[0].second.cpu_percent > 5.0; // idle is ~0; CI load can starve a spinner to ~10%
  });
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    std::string cpu;
    for (const auto& rep : r.seen)
      if (rep.size() == 1 && rep[0].second.cpu_percent)
        cpu += std::to_string(static_cast<int>(*rep[0].second.cpu_percent)) + " ";
    INFO("samples: " << r.seen.size() << ", cpu%: " << cpu);
    CHECK(busy);
    REQUIRE(!r.seen.empty());
    // The first sample of a root has no CPU% yet.
    CHECK_FALSE(r.seen.front()[0].second.cpu_percent.has_value());
    CHECK(r.seen.front()[0].second.processes == 1);
  }
  auto u = s.latest(pid);
  REQUIRE(u.has_value());
  CHECK(u->processes == 1);
  CHECK(u->cpu_percent.has_value());
  CHECK(u->at <= std::chrono::steady_clock::now());
}

TEST_CASE("sampler: on_sample gets every root in order, latest() knows only those",
          "[proc_stats][sampler]") {
  child a{{"alloc", "8"}};
  child t{{"tree", "2", "4"}};
  REQUIRE(a.ready());
  REQUIRE(t.ready());
  const pid_t none = impossible_pid();
  std::mutex mtx;
  std::vector<pid_t> roots{a.pid(), none, t.pid()};
  reports r;
  sampler s{[&] {
              std::lock_guard<std::mutex> guard{mtx};
              return roots;
            },
            20ms, r.make()};
  REQUIRE(r.wait([](const auto& seen) { return !seen.empty(); }));
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    const auto& first = r.seen.front();
    REQUIRE(first.size() == 3);
    CHECK(first[0].first == a.pid());
    CHECK(first[0].second.processes == 1);
    CHECK(first[0].second.rss_bytes >= 8 * mib);
    CHECK(first[1].first == none);
    CHECK(first[1].second.processes == 0);
    CHECK(first[1].second.rss_bytes == 0);
    CHECK_FALSE(first[1].second.cpu_percent.has_value());
    CHECK(first[2].first == t.pid());
    CHECK(first[2].second.processes == 3);
    CHECK(first[2].second.rss_bytes >= 8 * mib);
  }
  CHECK(s.latest(a.pid()).has_value());
  CHECK(s.latest(t.pid()).has_value());
  CHECK(s.latest(none).has_value()); // asked for, and known to be absent
  CHECK(s.latest(none)->processes == 0);
  CHECK_FALSE(s.latest(getpid()).has_value()); // never a root
  CHECK_FALSE(s.latest(none - 1).has_value());

  SECTION("a root the provider drops is forgotten") {
    {
      std::lock_guard<std::mutex> guard{mtx};
      roots = {t.pid()};
    }
    const size_t before = r.count();
    REQUIRE(r.wait([&](const auto& seen) { return seen.size() > before && seen.back().size() == 1; }));
    CHECK_FALSE(s.latest(a.pid()).has_value());
    CHECK(s.latest(t.pid()).has_value());
  }
}

TEST_CASE("sampler: no roots, no /proc, no on_sample", "[proc_stats][sampler]") {
  std::mutex mtx;
  std::condition_variable cv;
  int asked = 0;
  std::atomic<int> sampled{0};
  sampler s{[&] {
              std::lock_guard<std::mutex> guard{mtx};
              ++asked;
              cv.notify_all();
              return std::vector<pid_t>{};
            },
            5ms, [&](const auto&) { ++sampled; }};
  std::unique_lock<std::mutex> lock{mtx};
  REQUIRE(cv.wait_for(lock, 10s, [&] { return asked >= 5; }));
  CHECK(sampled == 0);
  CHECK_FALSE(s.latest(getpid()).has_value());
}

TEST_CASE("sampler: poke samples at once, the destructor is prompt", "[proc_stats][sampler]") {
  using clock = std::chrono::steady_clock;
  child a{{"alloc", "8"}};
  REQUIRE(a.ready());
  const pid_t pid = a.pid();
  reports r;
  auto s = std::make_unique<sampler>([pid] { return std::vector<pid_t>{pid}; }, 1h, r.make());
  CHECK(s->interval() == 1h);
  CHECK_FALSE(s->latest(pid).has_value()); // the first pass is one interval away

  s->poke();
  REQUIRE(r.wait([](const auto& seen) { return seen.size() >= 1; }, 5s));
  auto u = s->latest(pid);
  REQUIRE(u.has_value());
  CHECK(u->rss_bytes >= 8 * mib);
  CHECK_FALSE(u->cpu_percent.has_value()); // first sample

  // A second poke right away: a window far below half the interval gives no
  // CPU% of its own; the previous one (none yet) stands.
  s->poke();
  REQUIRE(r.wait([](const auto& seen) { return seen.size() >= 2; }, 5s));
  CHECK_FALSE(s->latest(pid)->cpu_percent.has_value());

  const auto t0 = clock::now();
  s.reset();
  CHECK(clock::now() - t0 < 1s);
}

TEST_CASE("sampler: destroyed right after construction, with a long interval",
          "[proc_stats][sampler]") {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  {
    sampler s{[] { return std::vector<pid_t>{}; }, std::chrono::hours(24)};
  }
  CHECK(clock::now() - t0 < 1s);
}

TEST_CASE("sampler: a throwing provider skips the pass, the thread lives on",
          "[proc_stats][sampler]") {
  std::atomic<int> calls{0};
  reports r;
  sampler s{[&]() -> std::vector<pid_t> {
              if (++calls == 1)
                throw std::runtime_error("boom");
              return {getpid()};
            },
            10ms, r.make()};
  REQUIRE(r.wait([](const auto& seen) { return !seen.empty(); }));
  CHECK(calls >= 2);
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
