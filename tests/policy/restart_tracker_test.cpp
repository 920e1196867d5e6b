#include <catch2/catch.hpp>

#include "policy/restart_tracker.hpp"

using namespace std::chrono_literals;
using arbor::app_spec;
using arbor::restart_policy;
using arbor::restart_tracker;
using arbor::run_facts;
using verdict = arbor::restart_decision::verdict;

namespace {

run_facts exit_code(int code, std::chrono::milliseconds up) { return {false, code, up}; }
run_facts killed(int sig, std::chrono::milliseconds up) { return {true, sig, up}; }

} // namespace

TEST_CASE("restart_tracker: on_failure restarts a crash at once, a stable run has no delay") {
  app_spec s;
  restart_tracker t{s};
  auto d = t.on_exit(exit_code(1, 5s));
  CHECK(d.what == verdict::restart);
  CHECK(d.delay == 0ms);
  CHECK_FALSE(d.crash_loop);
  d = t.on_exit(killed(9, 2s));
  CHECK(d.what == verdict::restart);
  CHECK(t.restarts() == 2);
}

TEST_CASE("restart_tracker: on_failure leaves a clean exit down") {
  app_spec s;
  restart_tracker t{s};
  auto d = t.on_exit(exit_code(0, 10ms));
  CHECK(d.what == verdict::stay_down);
  CHECK(d.reason.find("exit code 0") != std::string::npos);
  CHECK(t.restarts() == 0);
}

TEST_CASE("restart_tracker: always restarts a clean exit, never restarts nothing") {
  app_spec s;
  s.restart = restart_policy::always;
  restart_tracker a{s};
  CHECK(a.on_exit(exit_code(0, 5s)).what == verdict::restart);
  s.restart = restart_policy::never;
  restart_tracker n{s};
  CHECK(n.on_exit(exit_code(1, 5s)).what == verdict::stay_down);
  CHECK(n.on_exit(killed(9, 5s)).what == verdict::stay_down);
}

TEST_CASE("restart_tracker: stop_exit_codes keep the app down, signals are not exit codes") {
  app_spec s;
  s.restart = restart_policy::always;
  s.stop_exit_codes = {0, 3};
  restart_tracker t{s};
  CHECK(t.on_exit(exit_code(3, 5s)).what == verdict::stay_down);
  CHECK(t.on_exit(exit_code(0, 5s)).what == verdict::stay_down);
  CHECK(t.on_exit(exit_code(4, 5s)).what == verdict::restart);
  CHECK(t.on_exit(killed(3, 5s)).what == verdict::restart);
}

TEST_CASE("restart_tracker: crash loop backs off 100, 200, 400 ms") {
  app_spec s;
  restart_tracker t{s};
  auto d0 = t.on_exit(exit_code(1, 10ms));
  auto d1 = t.on_exit(exit_code(1, 10ms));
  auto d2 = t.on_exit(exit_code(1, 10ms));
  CHECK(d0.delay == 100ms);
  CHECK(d1.delay == 200ms);
  CHECK(d2.delay == 400ms);
  CHECK(d2.crash_loop);
  CHECK(t.short_runs() == 3);
}

TEST_CASE("restart_tracker: a run of min_uptime resets the crash loop") {
  app_spec s;
  s.min_uptime = 1000ms;
  restart_tracker t{s};
  t.on_exit(exit_code(1, 10ms));
  t.on_exit(exit_code(1, 10ms));
  REQUIRE(t.short_runs() == 2);
  auto d = t.on_exit(exit_code(1, 1000ms));
  CHECK(t.short_runs() == 0);
  CHECK(d.delay == 0ms);
  CHECK(t.on_exit(exit_code(1, 999ms)).delay == 100ms);
}

TEST_CASE("restart_tracker: max_restarts consecutive short runs, then give up") {
  app_spec s;
  s.max_restarts = 3;
  restart_tracker t{s};
  for (int i = 0; i < 3; ++i)
    REQUIRE(t.on_exit(exit_code(1, 1ms)).what == verdict::restart);
  auto d = t.on_exit(exit_code(1, 1ms));
  CHECK(d.what == verdict::give_up);
  CHECK(d.reason.find("max_restarts") != std::string::npos);
  CHECK(t.restarts() == 3);
}

TEST_CASE("restart_tracker: stable runs never exhaust max_restarts") {
  app_spec s;
  s.max_restarts = 2;
  restart_tracker t{s};
  for (int i = 0; i < 50; ++i)
    REQUIRE(t.on_exit(exit_code(1, 2s)).what == verdict::restart);
  CHECK(t.restarts() == 50);
}

TEST_CASE("restart_tracker: max_restarts = 0 gives up on the first short run") {
  app_spec s;
  s.max_restarts = 0;
  restart_tracker t{s};
  CHECK(t.on_exit(exit_code(1, 1ms)).what == verdict::give_up);
}

TEST_CASE("restart_tracker: reset forgets the crash loop") {
  app_spec s;
  s.max_restarts = 1;
  restart_tracker t{s};
  t.on_exit(exit_code(1, 1ms));
  t.reset();
  auto d = t.on_exit(exit_code(1, 1ms));
  CHECK(d.what == verdict::restart);
  CHECK(d.delay == 100ms);
}

TEST_CASE("restart_tracker: restart_delay applies to stable runs, backoff wins when larger") {
  app_spec s;
  s.restart_delay = 250ms;
  restart_tracker t{s};
  CHECK(t.on_exit(exit_code(1, 5s)).delay == 250ms);
  CHECK(t.on_exit(exit_code(1, 1ms)).delay == 250ms); // 100 ms backoff < 250
  CHECK(t.on_exit(exit_code(1, 1ms)).delay == 250ms); // 200 ms
  CHECK(t.on_exit(exit_code(1, 1ms)).delay == 400ms);
}

TEST_CASE("restart_tracker: shell exit 127 on a short run gives up at once") {
  app_spec s;
  s.shell = true;
  restart_tracker t{s};
  auto d = t.on_exit(exit_code(127, 5ms));
  CHECK(d.what == verdict::give_up);
  CHECK(d.reason.find("not found") != std::string::npos);
  app_spec plain;
  restart_tracker p{plain};
  CHECK(p.on_exit(exit_code(127, 5ms)).what == verdict::restart);
}
