// Supervisor timers under CAF's deterministic scheduler: time is simulated,
// so a timer is seen to fire exactly when due, not before, and stale
// (generation-tagged) timers are seen to do nothing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "app_supervisor.hpp"
#include "harness.hpp"
#include "internal_messages.hpp"
#include "os/spawn.hpp"
#include "process_actor.hpp"

using namespace arbor;
using namespace arbor::detail;
using arbor::test::wait_gone;
using namespace std::chrono_literals;

namespace {

struct testing_config : caf::actor_system_config {
  testing_config() { set("scheduler.policy", caf::atom("testing")); }
};

/// A deterministic actor system with sinks for what supervisors report.
struct fixture {
  testing_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<runtime> rt = std::make_shared<runtime>();
  caf::actor parent;
  std::shared_ptr<std::vector<event>> events = std::make_shared<std::vector<event>>();

  fixture() {
    // Not caf::drop: in CAF 0.17 it answers with an error, which kills the sender.
    auto sink = [](caf::event_based_actor*, std::shared_ptr<std::vector<event>> seen)
      -> caf::behavior {
      return {[seen](event& e) { seen->push_back(e); }, [](run_ended&) {}, [](spawn_failed&) {},
              [](child_event&) { return true; }};
    };
    rt->bus = sys.spawn(sink, events);
    parent = sys.spawn(sink, std::make_shared<std::vector<event>>());
  }

  /// A process actor whose first run "ended" (injected, as the exit watcher
  /// would report it) and whose app supervisor decided on a 5 s backoff.
  /// Returns the actor; `first` is the pid of the run that "ended" (still
  /// alive: the caller kills it).
  caf::actor in_backoff(int32_t& first);

  size_t count(const std::string& what) const {
    return static_cast<size_t>(std::count_if(events->begin(), events->end(),
                                              [&](const event& e) { return e.what == what; }));
  }

  /// Runs every job that is ready, without moving the simulated clock.
  void drain() {
    while (sched.try_run_once()) {
    }
  }

  /// An actor's state; safe to read between steps (one thread runs all).
  template <class State>
  State& state_of(const caf::actor& a) {
    auto* p = dynamic_cast<caf::stateful_actor<State>*>(caf::actor_cast<caf::abstract_actor*>(a));
    REQUIRE(p != nullptr);
    return p->state;
  }
};

std::shared_ptr<const app_spec> sleeper() {
  auto spec = std::make_shared<app_spec>();
  spec->name = "t";
  spec->argv = {ARBOR_TEST_CHILD, "sleep"};
  return spec;
}

/// The exit of `pid` as the exit watcher would report it.
child_exited killed(int32_t pid) {
  child_exited m;
  m.pid = pid;
  m.signaled = true;
  m.code = SIGKILL;
  m.description = "signal(SIGKILL)";
  return m;
}

caf::actor fixture::in_backoff(int32_t& first) {
  auto p = sys.spawn(process_actor, sleeper(), 0u, parent, rt, true, uint16_t{0});
  drain();
  auto& st = state_of<process_state>(p);
  caf::anon_send(p, start_atom::value);
  drain();
  REQUIRE(st.state == proc_state::running);
  first = st.pid;
  caf::anon_send(p, killed(first));
  caf::anon_send(p, respawn_atom::value, int64_t{5000}, std::string{"crash loop"});
  drain();
  return p;
}

} // namespace

TEST_CASE("process_actor: a backoff restart fires when its delay has passed, not before") {
  fixture f;
  int32_t first = 0;
  auto p = f.in_backoff(first);
  auto& st = f.state_of<process_state>(p);
  CHECK(st.state == proc_state::backoff);
  CHECK(f.sched.has_pending_timeout());

  f.sched.advance_time(4999ms);
  f.drain();
  CHECK(st.state == proc_state::backoff);
  CHECK(st.pid == 0);

  f.sched.advance_time(1ms);
  f.drain();
  CHECK(st.state == proc_state::running);
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

TEST_CASE("process_actor: a start during backoff makes the pending timer stale") {
  fixture f;
  int32_t first = 0;
  auto p = f.in_backoff(first);
  auto& st = f.state_of<process_state>(p);
  REQUIRE(st.state == proc_state::backoff);
  caf::anon_send(p, start_atom::value); // the operator does not wait
  f.drain();
  REQUIRE(st.state == proc_state::running);
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
  CHECK(f.count("cron") == 0);
  CHECK(st.cron_gen == gen);
  advance(1s); // 03:00:00, plus the 1 ms of margin the timer adds
  advance(1ms);
  CHECK(f.count("cron") == 1);
  CHECK(st.cron_gen == gen + 1); // the next one (tomorrow 03:00) is armed
  CHECK(f.sched.has_pending_timeout());
  advance(std::chrono::hours(23) + 59min); // 02:59 tomorrow: not yet
  CHECK(f.count("cron") == 1);
  advance(61s);
  CHECK(f.count("cron") == 2);
  caf::anon_send_exit(app, caf::exit_reason::kill);
  f.drain();
}
