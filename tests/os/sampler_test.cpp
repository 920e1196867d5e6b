// The sampler: periodic passes for the roots that need them (asleep with
// none), samples on demand, CPU windows.

#include <catch2/catch.hpp>

#include "stats_util.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

using namespace arbor::os;
using namespace arbor::os::test;
using namespace std::chrono_literals;

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
    // The first sample of a root: its average since it started (it is at
    // least one interval old, more than the half interval that can tell).
    CHECK(r.seen.front()[0].second.cpu_percent.has_value());
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

TEST_CASE("sampler: no periodic roots: one look, then asleep until poked",
          "[proc_stats][sampler]") {
  std::mutex mtx;
  std::condition_variable cv;
  int asked = 0;
  std::vector<pid_t> roots;
  reports r;
  sampler s{[&] {
              std::lock_guard<std::mutex> guard{mtx};
              ++asked;
              cv.notify_all();
              return roots;
            },
            5ms, r.make()};
  {
    std::unique_lock<std::mutex> lock{mtx};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return asked >= 1; }));
    // A timer would ask again every 5 ms: 40 intervals pass without a call.
    CHECK_FALSE(cv.wait_for(lock, 200ms, [&] { return asked >= 2; }));
    CHECK(asked == 1);
  }
  CHECK(s.passes() == 0);
  CHECK(r.count() == 0);
  CHECK_FALSE(s.latest(getpid()).has_value());

  // The first root appears: poke wakes the thread, and the timer runs again.
  {
    std::lock_guard<std::mutex> guard{mtx};
    roots = {getpid()};
  }
  s.poke();
  REQUIRE(r.wait([](const auto& seen) { return seen.size() >= 3; }));
  CHECK(s.passes() >= 3);
  CHECK(s.latest(getpid()).has_value());

  // None again: one more look, then asleep.
  std::unique_lock<std::mutex> lock{mtx};
  roots.clear();
  const int cleared_at = asked;
  REQUIRE(cv.wait_for(lock, 10s, [&] { return asked >= cleared_at + 1; }));
  CHECK_FALSE(cv.wait_for(lock, 200ms, [&] { return asked >= cleared_at + 2; }));
  CHECK_FALSE(s.latest(getpid()).has_value()); // no longer a root: forgotten
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

TEST_CASE("sampler: sample_now samples on demand, at most once per max_age",
          "[proc_stats][sampler]") {
  child spin{{"spin"}};
  child a{{"alloc", "16"}};
  REQUIRE(a.ready());
  const pid_t pid = a.pid();
  const pid_t busy = spin.pid();
  reports r;
  // No periodic roots: only sample_now fills the table.
  sampler s{[] { return std::vector<pid_t>{}; }, 200ms, r.make(),
            [&] { return std::vector<pid_t>{pid, busy}; }};
  CHECK_FALSE(s.latest(pid).has_value());

  const uint64_t before = detail::stat_reads();
  auto u = s.sample_now(pid, 1h);
  REQUIRE(u.has_value());
  CHECK(detail::stat_reads() - before == 1); // sampled here, on this thread
  CHECK(u->processes == 1);
  CHECK(u->rss_bytes >= 16 * mib);
  REQUIRE(s.latest(pid).has_value());
  CHECK(s.latest(pid)->at == u->at);

  // Fresh enough: the stored sample, no /proc read.
  auto again = s.sample_now(pid, 1h);
  REQUIRE(again.has_value());
  CHECK(again->at == u->at);
  CHECK(detail::stat_reads() - before == 1);

  // Older than max_age (0): a new one.
  auto next = s.sample_now(pid, 0ms);
  REQUIRE(next.has_value());
  CHECK(next->at > u->at);
  CHECK(detail::stat_reads() - before == 2);

  // CPU over the window since the previous sample (once it spans half an
  // interval, 100 ms): a spinner shows well above idle.
  REQUIRE(s.sample_now(busy, 0ms).has_value());
  std::optional<double> cpu;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       (!cpu || *cpu <= 5.0) && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(20ms); // polling: resampled once 150 ms old
    auto b = s.sample_now(busy, 150ms);
    REQUIRE(b.has_value());
    cpu = b->cpu_percent;
  }
  REQUIRE(cpu.has_value());
  CHECK(*cpu > 5.0);

  // A root that does not exist: processes 0.
  auto none = s.sample_now(impossible_pid(), 0ms);
  REQUIRE(none.has_value());
  CHECK(none->processes == 0);
  CHECK_FALSE(none->cpu_percent.has_value());
  CHECK(r.count() == 0); // on_sample is for periodic passes only
  CHECK(s.passes() == 0);
}

TEST_CASE("sampler: the first sample of a process is its average since it started",
          "[proc_stats][sampler]") {
  child spin{{"spin"}};
  const pid_t pid = spin.pid();
  // Until it is half an interval old there is no telling; on a loaded
  // machine the spinner may also wait a while for its first time slice.
  std::optional<usage> u;
  auto spun = [&] { return u && u->cpu_percent && *u->cpu_percent > 5.0; };
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !spun() && std::chrono::steady_clock::now() < until;) {
    sampler fresh{[] { return std::vector<pid_t>{}; }, 100ms}; // no history: a first sample
    u = fresh.sample_now(pid, 0ms);
    if (!spun()) std::this_thread::sleep_for(10ms); // polling /proc
  }
  REQUIRE(u.has_value());
  REQUIRE(u->cpu_percent.has_value());
  CHECK(*u->cpu_percent > 5.0);
}

