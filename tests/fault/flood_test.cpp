// Apps flooding stdout at full speed (lines, and bytes without any newline)
// against the real daemon. core/log_flood_test covers the embedded tree: a
// neighbour's crash recovery is not delayed and disk use is bounded. Here:
// the daemon's memory stays bounded, it keeps answering, and a neighbour
// killed under the flood is back at once.

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>

#include "fault_util.hpp"

using namespace arbor::test;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

namespace {

uint64_t rotations(const fault_daemon& fd, const std::string& app) {
  return fd.json({"show", app})["logs"]["rotations"].get<uint64_t>();
}

} // namespace

TEST_CASE("fault: stdout floods keep the daemon's memory bounded and a neighbour's recovery fast") {
  fault_daemon fd;
  auto env = fd.app_env();
  fd.up("[flood]\ncommand = \"yes arbor-flood-line-arbor-flood-line-arbor-flood-line\"\n"
        "instances = 2\nlog_max_size = \"1M\"\nlog_max_files = 2\n" + env
        + "[zeros]\ncommand = \"cat /dev/zero\"\nlog_max_size = \"1M\"\nlog_max_files = 2\n"
        + env + "[victim]\nargs = " + child_args({"sleep"}) + "\nmin_uptime = 0\n" + env);

  // Flooding for real: a few rotations of each file.
  REQUIRE(wait_until([&] { return rotations(fd, "flood") >= 3 && rotations(fd, "zeros") >= 3; }));
  const long rss_start = rss_kib(fd.pid);
  const auto flood_pids = std::make_pair(fd.instance("flood#0")["pid"].get<int>(),
                                         fd.instance("zeros#0")["pid"].get<int>());

  // Kill the victim a few times under the flood: back (new pid in status)
  // quickly each time. The status round trip is part of what is measured.
  std::vector<long> recovery_ms;
  for (int round = 0; round < 5; ++round) {
    int old = fd.instance("victim#0")["pid"].get<int>();
    REQUIRE(old > 0);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(::kill(old, SIGKILL) == 0);
    REQUIRE(wait_until([&] {
      auto p = fd.instance("victim#0")["pid"].get<int>();
      return p != 0 && p != old;
    }));
    recovery_ms.push_back(
      std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(recovery_ms.begin(), recovery_ms.end());
  INFO("victim back after (ms, sorted): " << recovery_ms[0] << " " << recovery_ms[2] << " "
                                           << recovery_ms[4]);
  // ~5 ms on an idle machine (a CLI status round trip included); 15-30 ms
  // median, single outliers up to ~1.2 s with two suites at once at load 12.
  // Under AddressSanitizer every allocation is slower and the daemon's RSS
  // is ASan's (its quarantine keeps up to 256 MB of freed memory by design):
  // time bounds are looser there and RSS is judged by the plain build only
  // (LeakSanitizer covers leaks in that build).
  CHECK(recovery_ms[2] < (sanitized ? 1000 : 250));
  CHECK(recovery_ms[4] < 2500);

  // Keep flooding until many more MiB went through the pump.
  auto r0 = rotations(fd, "flood") + rotations(fd, "zeros");
  REQUIRE(wait_until([&] { return rotations(fd, "flood") + rotations(fd, "zeros") >= r0 + 60; },
                     20s));
  const long rss_end = rss_kib(fd.pid);
  INFO("daemon RSS " << rss_start << " KiB -> " << rss_end << " KiB");
  if (!sanitized) {
    CHECK(rss_end < rss_start + 16 * 1024);
    CHECK(rss_end < 96 * 1024);
  }

  // Nothing restarted the flooders; disk use bounded (live + one rotated).
  CHECK(fd.instance("flood#0")["pid"] == flood_pids.first);
  CHECK(fd.instance("zeros#0")["pid"] == flood_pids.second);
  CHECK(fd.instance("flood#0")["restarts"] == 0);
  namespace fs = std::filesystem;
  for (auto app : {"flood", "zeros"}) {
    auto live = fd.home + "/logs/" + app + ".out.log";
    auto size_of = [](const std::string& f) {
      std::error_code ec;
      auto n = fs::file_size(f, ec);
      return ec ? uintmax_t{0} : n; // between a rename and the reopen
    };
    auto size = size_of(live) + size_of(live + ".1");
    CHECK(size <= 2u * 1024 * 1024 + 64 * 1024);
    CHECK_FALSE(fs::exists(live + ".2"));
  }
  // A line without a newline is cut at 16 KiB: no unbounded line buffer.
  // (Rotation unlinks, then renames: the file may be missing for a moment.)
  std::string head;
  REQUIRE(wait_until([&] {
    head = slurp(fd.home + "/logs/zeros.out.log.1").substr(0, 64 * 1024);
    return head.find('\n') != std::string::npos;
  }));
  CHECK(head.find('\n') == std::string{"zeros#0 | "}.size() + 16 * 1024);

  fd.down_and_check_clean();
}
