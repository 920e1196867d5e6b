// The restart policy with real processes: crash, clean exit, stop_exit_codes,
// max_restarts, min_uptime, backoff.

#include <catch2/catch.hpp>

#include <csignal>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

TEST_CASE("tree: a crashed process is restarted at once with a new pid") {
  // min_uptime = 0: every run is stable, so the exit watcher's standing
  // order restarts it without waiting for the actors.
  harness h{"[web.api]\nargs = " + child_args({"sleep"}) + "\nmin_uptime = 0\n"};
  h.start();
  auto first = h.wait(event_kind::child_started, "web.api#0");
  REQUIRE(first.pid > 0);
  REQUIRE(::kill(first.pid, SIGKILL) == 0);
  auto exited = h.wait(event_kind::child_exited, "web.api#0");
  CHECK(exited.pid == first.pid);
  CHECK(exited.reason == "signal(SIGKILL)");
  auto again = h.wait(event_kind::child_started, "web.api#0");
  CHECK(again.pid != first.pid);
  auto st = h.instance("web.api#0");
  CHECK((st.state == proc_state::running || st.state == proc_state::ready)); // min_uptime 0: ready at once
  CHECK(st.pid == again.pid);
  CHECK(st.restarts == 1);
  CHECK(st.last_exit == "signal(SIGKILL)");
  CHECK(h.count(event_kind::backoff) == 0);
  // And again: the replacement is supervised the same way.
  REQUIRE(::kill(again.pid, SIGKILL) == 0);
  auto third = h.wait(event_kind::child_started, "web.api#0");
  CHECK(third.pid != again.pid);
  CHECK(h.instance("web.api#0").restarts == 2);
  REQUIRE(h.tree->stop(10s));
  auto stopped = h.wait(event_kind::stopped, "web.api#0");
  CHECK(stopped.pid == third.pid);
  CHECK(wait_gone(third.pid));
}

TEST_CASE("tree: a short run after a crash waits for the backoff") {
  harness h{"[web.api]\nargs = " + child_args({"sleep"}) + "\nbackoff_base_ms = 30\n"};
  h.start();
  auto first = h.wait(event_kind::child_started, "web.api#0");
  REQUIRE(::kill(first.pid, SIGKILL) == 0);
  auto b = h.wait(event_kind::backoff, "web.api#0");
  CHECK(b.reason.find("restart in 30ms") != std::string::npos);
  auto again = h.wait(event_kind::child_started, "web.api#0");
  CHECK(again.pid != first.pid);
}

TEST_CASE("tree: a stable clean exit under on_failure stays down too") {
  harness h{"[job]\nargs = " + child_args({"exit", "0"}) + "\nmin_uptime = 0\n"};
  h.start();
  auto down = h.wait(event_kind::stays_down, "job#0");
  CHECK(down.reason.find("exit code 0") != std::string::npos);
  CHECK(h.count(event_kind::child_started, "job#0") == 1);
  CHECK(h.instance("job#0").state == proc_state::stopped);
}

TEST_CASE("tree: a segfault is a crash and is restarted") {
  harness h{"[seg]\nargs = " + child_args({"crash"}) + "\nmin_uptime = 0\n"};
  h.start();
  auto exited = h.wait(event_kind::child_exited, "seg#0");
  CHECK(exited.reason.rfind("signal(SIGSEGV", 0) == 0);
  h.wait(event_kind::child_started, "seg#0");
}

TEST_CASE("tree: a clean exit under on_failure stays down") {
  harness h{"[job]\nargs = " + child_args({"exit", "0"}) + "\n"};
  h.start();
  h.wait(event_kind::child_exited, "job#0");
  auto down = h.wait(event_kind::stays_down, "job#0");
  CHECK(down.reason.find("exit code 0") != std::string::npos);
  auto st = h.instance("job#0");
  CHECK(st.state == proc_state::stopped);
  CHECK(st.pid == 0);
  CHECK(h.count(event_kind::child_started, "job#0") == 1);
}

TEST_CASE("tree: stop_exit_codes keep an always app down") {
  harness h{"[job]\nargs = " + child_args({"exit", "3"})
            + "\nrestart = \"always\"\nstop_exit_codes = [3]\n"};
  h.start();
  auto down = h.wait(event_kind::stays_down, "job#0");
  CHECK(down.reason.find("stop_exit_codes") != std::string::npos);
  CHECK(h.instance("job#0").state == proc_state::stopped);
}

TEST_CASE("tree: max_restarts consecutive short runs end in failed") {
  harness h{"[flaky]\nargs = " + child_args({"exit", "1"})
            + "\nmax_restarts = 2\nbackoff_base_ms = 1\nbackoff_max_ms = 5\n"};
  h.start();
  auto gave_up = h.wait(event_kind::gave_up, "flaky#0");
  CHECK(gave_up.reason.find("max_restarts") != std::string::npos);
  CHECK(h.count(event_kind::child_started, "flaky#0") == 3); // first run + 2 restarts
  auto st = h.instance("flaky#0");
  CHECK(st.state == proc_state::failed);
  CHECK(st.restarts == 2);
  CHECK(st.reason.find("max_restarts") != std::string::npos);
}

TEST_CASE("tree: runs longer than min_uptime reset the count, so max_restarts is never hit") {
  // Each run lasts >= 30 ms, min_uptime is 20 ms: every run is stable.
  harness h{"[steady]\nargs = " + child_args({"run-for", "30", "1"})
            + "\nmax_restarts = 1\nmin_uptime = 20\n"};
  h.start();
  for (int i = 0; i < 4; ++i) {
    auto r = h.wait(event_kind::restarting, "steady#0");
    CHECK(r.reason == "exit(1)");
    CHECK(r.cause == restart_cause::crash);
  }
  CHECK(h.count(event_kind::backoff) == 0); // stable runs restart at once
  CHECK(h.count(event_kind::gave_up) == 0);
}

TEST_CASE("tree: a crash loop backs off 50, 100, 200 ms") {
  harness h{"[loop]\nargs = " + child_args({"exit", "1"})
            + "\nbackoff_base_ms = 50\nmax_restarts = 10\n"};
  h.start();
  // Events from one actor arrive in order; across actors they may not, so
  // pair each run's exit with the next start (both from the process actor).
  for (int i = 0; i < 4; ++i) h.wait(event_kind::child_started, "loop#0");
  std::vector<event> exits, starts, decisions;
  for (auto& e : h.history()) {
    if (e.what == event_kind::child_exited) exits.push_back(e);
    if (e.what == event_kind::child_started) starts.push_back(e);
    if (e.what == event_kind::backoff) decisions.push_back(e);
  }
  REQUIRE(starts.size() >= 4);
  REQUIRE(exits.size() >= 3);
  REQUIRE(decisions.size() >= 3);
  const long expected[] = {50, 100, 200};
  for (int i = 0; i < 3; ++i) {
    CHECK(decisions[i].reason.find("restart in " + std::to_string(expected[i]) + "ms")
          != std::string::npos);
    CHECK(decisions[i].reason.find(std::to_string(i + 1) + " consecutive runs") != std::string::npos);
    CHECK(decisions[i].cause == restart_cause::crash);
    auto gap_ms = (starts[i + 1].at_ns - exits[i].at_ns) / 1000000;
    CHECK(gap_ms >= expected[i]);
    CHECK(gap_ms < expected[i] + 2000);
  }
}

TEST_CASE("tree: restart = never leaves a crashed app down") {
  harness h{"[once]\nargs = " + child_args({"exit", "1"}) + "\nrestart = \"temporary\"\n"};
  h.start();
  auto down = h.wait(event_kind::stays_down, "once#0");
  CHECK(down.reason == "restart=never");
}
