// Restart triggers: memory limit over the whole process tree, cron schedule.

#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

TEST_CASE("trigger: a process tree that grows past max_memory is restarted (children counted)") {
  // The parent itself is small; its two children hold 40 MiB each.
  harness h{"[fat]\nargs = " + child_args({"tree", "2", "40"})
              + "\nmax_memory = \"64M\"\nkill_timeout = 2000\n",
            200ms};
  h.start();
  auto first = h.wait(event_kind::child_started, "fat#0");
  auto stopping = h.wait(event_kind::stopping, "fat#0", 20s);
  CHECK(stopping.pid == first.pid);
  CHECK(stopping.reason.find("memory_limit: ") != std::string::npos);
  CHECK(stopping.reason.find("> max_memory 64M") != std::string::npos);
  auto again = h.wait(event_kind::child_started, "fat#0", 20s);
  CHECK(again.pid != first.pid);
  auto restarting = h.wait(event_kind::restarting, "fat#0");
  CHECK(restarting.reason.find("memory_limit") != std::string::npos);
  CHECK(restarting.cause == restart_cause::memory_limit);
  CHECK(h.instance("fat#0").last_exit.find("memory_limit") != std::string::npos);
  CHECK(wait_gone(first.pid));
}

TEST_CASE("trigger: an app under its max_memory is left alone") {
  harness h{"[lean]\nargs = " + child_args({"tree", "2", "8"}) + "\nmax_memory = \"512M\"\n", 100ms};
  h.start();
  auto first = h.wait(event_kind::child_started, "lean#0");
  // Five samples pass without a restart: wait for the sampler's numbers.
  int64_t mem = -1;
  for (int i = 0; i < 100 && mem < 16 * 1024 * 1024; ++i) {
    mem = h.instance("lean#0").memory_bytes;
    std::this_thread::sleep_for(20ms); // sampled by another thread
  }
  CHECK(mem >= 16 * 1024 * 1024); // the children's memory is counted
  std::this_thread::sleep_for(500ms); // five more samples
  CHECK(h.count(event_kind::stopping, "lean#0") == 0);
  CHECK(h.instance("lean#0").pid == first.pid);
}

TEST_CASE("trigger: a 6-field cron restarts within a second of its schedule") {
  harness h{"[tick]\nargs = " + child_args({"sleep"}) + "\ncron_restart = \"*/2 * * * * *\"\n"};
  h.start();
  auto first = h.wait(event_kind::child_started, "tick#0");
  auto stopping = h.wait(event_kind::stopping, "tick#0", 10s);
  CHECK(stopping.reason == "cron: */2 * * * * *");
  // Scheduled at an even second: the stop begins within a second of it.
  auto ms_into_period = (stopping.at_ns / 1000000) % 2000;
  CHECK(ms_into_period < 1000);
  auto again = h.wait(event_kind::child_started, "tick#0");
  CHECK(again.pid != first.pid);
  CHECK(h.wait(event_kind::restarting, "tick#0").cause == restart_cause::cron);
  // And it keeps firing.
  auto next = h.wait(event_kind::stopping, "tick#0", 10s);
  CHECK((next.at_ns - stopping.at_ns) / 1000000 >= 1000);
}
