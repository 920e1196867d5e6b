#pragma once

// The tree's actors under CAF's deterministic scheduler: simulated time, one
// thread, every step run by the test (drain, advance_time).

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "arbor/messages.hpp"
#include "internal_messages.hpp"
#include "runtime.hpp"

namespace arbor::test {

using detail::child_event;
using detail::run_ended;
using detail::spawn_failed;

struct testing_config : caf::actor_system_config {
  testing_config() { set("scheduler.policy", caf::atom("testing")); }
};

/// A deterministic actor system with sinks for what supervisors report.
struct fixture {
  testing_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<detail::runtime> rt = std::make_shared<detail::runtime>();
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

  size_t count(event_kind what) const {
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

/// A crash-looping app: the first short run is followed by a 5 s backoff.
/// The exit of `pid` as the exit watcher would report it, now.
inline detail::child_exited killed(int32_t pid) {
  detail::child_exited m;
  m.pid = pid;
  m.signaled = true;
  m.code = SIGKILL;
  m.at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now().time_since_epoch())
              .count();
  m.description = "signal(SIGKILL)";
  return m;
}

} // namespace arbor::test
