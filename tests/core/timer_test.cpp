// Supervisor timers under CAF's deterministic scheduler: time is simulated,
// so a timer is seen to fire exactly when due, not before, and stale
// (generation-tagged) timers are seen to do nothing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "app/app_supervisor.hpp"
#include "deterministic.hpp"
#include "harness.hpp"
#include "internal_messages.hpp"
#include "os/spawn.hpp"
#include "process/process_actor.hpp"

using namespace arbor;
using namespace arbor::detail;
using arbor::test::fixture;
using arbor::test::killed;
using arbor::test::wait_gone;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const app_spec> sleeper() {
  auto spec = std::make_shared<app_spec>();
  spec->name = "t";
  spec->argv = {ARBOR_TEST_CHILD, "sleep"};
  spec->backoff_base = 5000ms;
  return spec;
}

/// A process actor whose first run "ended" (injected, as the exit watcher
/// would report it) after a short run, so its tracker chose a 5 s backoff.
/// Returns the actor; `first` is the pid of the run that "ended" (still
/// alive: the caller kills it).
caf::actor in_backoff(fixture& f, int32_t& first) {
  instance_links links;
  links.app = f.parent;
  auto p = f.sys.spawn(process_actor, sleeper(), 0u, links, f.rt);
  f.drain();
  auto& st = f.state_of<process_state>(p);
  caf::anon_send(p, start_atom::value);
  f.drain();
  REQUIRE(st.phase() == proc_state::running);
  first = st.pid;
  caf::anon_send(p, killed(first)); // a short run: the tracker backs off 5 s
  f.drain();
  return p;
}

} // namespace

TEST_CASE("process_actor: a backoff restart fires when its delay has passed, not before") {
  fixture f;
  int32_t first = 0;
  auto p = in_backoff(f, first);
  auto& st = f.state_of<process_state>(p);
  CHECK(st.phase() == proc_state::backoff);
  CHECK(f.sched.has_pending_timeout());

  f.sched.advance_time(4999ms);
  f.drain();
  CHECK(st.phase() == proc_state::backoff);
  CHECK(st.pid == 0);

  f.sched.advance_time(1ms);
  f.drain();
  CHECK(st.phase() == proc_state::running);
  CHECK(st.pid > 0);
  CHECK(st.pid != first);
  CHECK(st.restarts == 1);

  auto second = st.pid;
  caf::anon_send_exit(p, caf::exit_reason::kill); // its state kills the process group
  f.drain();
  os::signal_group(first, SIGKILL); // the run we pretended had ended
  CHECK(wait_gone(second));
  CHECK(wait_gone(first));
}

TEST_CASE("process_actor: status in backoff says when the next try is and counts the short runs") {
  fixture f;
  int32_t first = 0;
  auto p = in_backoff(f, first);
  auto* self = dynamic_cast<caf::stateful_actor<process_state>*>(
    caf::actor_cast<caf::abstract_actor*>(p));
  REQUIRE(self != nullptr);
  auto x = status_of(self);
  CHECK(x.state == proc_state::backoff);
  CHECK(x.short_runs == 1);
  CHECK(x.restarts == 0);
  // The timer runs on simulated time, the countdown on the real clock: it
  // only says what is left of the 5 s.
  CHECK(x.next_try_ms > 0);
  CHECK(x.next_try_ms <= 5000);
  f.sched.advance_time(5000ms); // the restart: no backoff any more
  f.drain();
  x = status_of(self);
  CHECK(x.state == proc_state::running);
  CHECK(x.next_try_ms == 0);
  CHECK(x.short_runs == 1); // until a run lasts min_uptime
  CHECK(x.restarts == 1);
  auto second = x.pid;
  caf::anon_send_exit(p, caf::exit_reason::kill);
  f.drain();
  os::signal_group(first, SIGKILL);
  CHECK(wait_gone(second));
  CHECK(wait_gone(first));
}

TEST_CASE("process_actor: a start during backoff makes the pending timer stale") {
  fixture f;
  int32_t first = 0;
  auto p = in_backoff(f, first);
  auto& st = f.state_of<process_state>(p);
  REQUIRE(st.phase() == proc_state::backoff);
  caf::anon_send(p, start_atom::value); // the operator does not wait
  f.drain();
  REQUIRE(st.phase() == proc_state::running);
  auto second = st.pid;
  f.sched.advance_time(10s); // the old timer comes due: it must do nothing
  f.drain();
  CHECK(st.pid == second);
  CHECK(st.restarts == 0);
  caf::anon_send_exit(p, caf::exit_reason::kill);
  f.drain();
  os::signal_group(first, SIGKILL);
  CHECK(wait_gone(second));
  CHECK(wait_gone(first));
}

TEST_CASE("app_supervisor: the cron timer fires at next_fire and re-arms itself") {
  fixture f;
  auto spec = std::make_shared<app_spec>();
  spec->name = "nightly";
  spec->argv = {ARBOR_TEST_CHILD, "sleep"};
  spec->instances = 0; // only the timer is under test
  spec->cron_restart = "0 3 * * *";
  auto app = f.sys.spawn(app_supervisor, std::shared_ptr<const app_spec>(spec), f.parent, f.rt,
                         false);
  f.drain();
  auto& st = f.state_of<app_supervisor_state>(app);
  REQUIRE(st.cron.has_value());
  // The wall clock follows the simulated time from 02:59:00 UTC.
  using sys_clock = std::chrono::system_clock;
  auto base = sys_clock::time_point{std::chrono::seconds{1795316340}}; // 2026-11-22 02:59:00Z
  auto simulated = std::make_shared<std::chrono::milliseconds>(0);
  st.wall_clock = [base, simulated] { return base + *simulated; };
  auto advance = [&](std::chrono::milliseconds d) {
    *simulated += d;
    f.sched.advance_time(d);
    f.drain();
  };
  caf::anon_send(app, start_atom::value);
  f.drain();
  REQUIRE(f.sched.has_pending_timeout());
  auto gen = st.cron_gen;
  advance(59s); // 02:59:59: not yet
  CHECK(f.count(event_kind::cron) == 0);
  CHECK(st.cron_gen == gen);
  advance(1s); // 03:00:00, plus the 1 ms of margin the timer adds
  advance(1ms);
  CHECK(f.count(event_kind::cron) == 1);
  CHECK(st.cron_gen == gen + 1); // the next one (tomorrow 03:00) is armed
  CHECK(f.sched.has_pending_timeout());
  advance(std::chrono::hours(23) + 59min); // 02:59 tomorrow: not yet
  CHECK(f.count(event_kind::cron) == 1);
  advance(61s);
  CHECK(f.count(event_kind::cron) == 2);
  caf::anon_send_exit(app, caf::exit_reason::kill);
  f.drain();
}

namespace {

/// An app of one instance under a cron schedule, depending on "db", which
/// the board knows and which never becomes ready.
std::shared_ptr<const app_spec> waits_for_db() {
  auto spec = std::make_shared<app_spec>();
  spec->name = "api";
  spec->argv = {ARBOR_TEST_CHILD, "sleep"};
  spec->depends_on = {"db"};
  spec->cron_restart = "0 3 * * *";
  return spec;
}

/// The app of waits_for_db(), spawned, with "db" known and not ready.
caf::actor spawn_waiting(fixture& f) {
  f.rt->board.set("db", false);
  auto app = f.sys.spawn(app_supervisor, waits_for_db(), f.parent, f.rt, false);
  f.drain();
  return app;
}

/// Every pid the app's instances run (0 for none).
std::vector<int32_t> pids_of(fixture& f, const app_supervisor_state& st) {
  std::vector<int32_t> pids;
  for (auto& x : st.instances) pids.push_back(f.state_of<process_state>(x).pid);
  return pids;
}

} // namespace

TEST_CASE("app_supervisor: a cron tick does not start an app still waiting for its depends_on") {
  fixture f;
  auto app = spawn_waiting(f);
  auto& st = f.state_of<app_supervisor_state>(app);
  using sys_clock = std::chrono::system_clock;
  auto base = sys_clock::time_point{std::chrono::seconds{1795316340}}; // 2026-11-22 02:59:00Z
  auto simulated = std::make_shared<std::chrono::milliseconds>(0);
  st.wall_clock = [base, simulated] { return base + *simulated; };
  caf::anon_send(app, start_atom::value);
  f.drain();
  REQUIRE(st.waiting);
  REQUIRE(f.count(event_kind::waiting) == 1);
  *simulated += 61s; // past 03:00:00: the tick comes due
  f.sched.advance_time(61s);
  f.drain();
  CHECK(st.cron_gen >= 2); // the tick came and the next one is armed
  CHECK(st.waiting);
  CHECK(f.count(event_kind::child_started) == 0);
  CHECK(pids_of(f, st) == std::vector<int32_t>{0});
  caf::anon_send_exit(app, caf::exit_reason::kill);
  f.drain();
}

TEST_CASE("app_supervisor: scaling up an app waiting for its depends_on starts nothing yet") {
  fixture f;
  auto app = spawn_waiting(f);
  auto& st = f.state_of<app_supervisor_state>(app);
  caf::anon_send(app, start_atom::value);
  f.drain();
  REQUIRE(st.waiting);
  caf::anon_send(app, scale_atom::value, std::string{"api"}, uint32_t{3});
  f.drain();
  CHECK(st.instances.size() == 3);
  CHECK(f.count(event_kind::child_started) == 0);
  CHECK(pids_of(f, st) == std::vector<int32_t>{0, 0, 0});
  f.rt->board.set("db", true); // db ready: all three start
  f.drain();
  CHECK(f.count(event_kind::child_started) == 3);
  for (auto pid : pids_of(f, st)) CHECK(pid > 0);
  auto pids = pids_of(f, st);
  caf::anon_send_exit(app, caf::exit_reason::kill);
  f.drain();
  for (auto pid : pids) CHECK(wait_gone(pid));
}
