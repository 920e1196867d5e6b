// A child writing faster than the log pump can write must not delay the
// crash recovery of other apps: supervision never waits on the pump.

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <thread>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

TEST_CASE("tree: an app flooding stdout does not delay another app's crash recovery") {
  harness h{"[flood]\ncommand = \"yes arbor-flooding-the-log-pump\"\n"
            "log_max_size = \"1M\"\nlog_max_files = 2\n"
            "[victim]\nargs = " + child_args({"sleep"}) + "\nmin_uptime = 0\n"};
  h.start();
  h.wait(event_kind::child_started, "flood#0");
  auto victim = h.wait(event_kind::child_started, "victim#0");
  // Wait until the flood has gone through at least one rotation.
  auto rotated = h.dir.file("logs/flood.out.log.1");
  for (int i = 0; i < 1000 && !std::filesystem::exists(rotated); ++i)
    std::this_thread::sleep_for(5ms); // the pump thread's file
  REQUIRE(std::filesystem::exists(rotated));
  for (int round = 0; round < 5; ++round) {
    REQUIRE(::kill(victim.pid, SIGKILL) == 0);
    auto exited = h.wait(event_kind::child_exited, "victim#0");
    auto next = h.wait(event_kind::child_started, "victim#0");
    auto gap_ms = (next.at_ns - exited.at_ns) / 1000000;
    CHECK(gap_ms < 250); // measured ~1 ms; generous for a loaded CI machine
    victim = next;
  }
  // Bounded disk use whatever the flood: the live file plus one rotated.
  // A file may be mid-rotation (renamed away) at the instant we look: 0 then.
  std::error_code ec1, ec2;
  auto live = std::filesystem::file_size(h.dir.file("logs/flood.out.log"), ec1);
  auto old = std::filesystem::file_size(rotated, ec2);
  auto size = (ec1 ? 0 : live) + (ec2 ? 0 : old);
  CHECK(size <= 2u * 1024 * 1024 + 64 * 1024);
  CHECK_FALSE(std::filesystem::exists(h.dir.file("logs/flood.out.log.2")));
}
