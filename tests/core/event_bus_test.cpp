// The event bus: who subscribes before the tree starts gets every event,
// the first ones included.

#include <catch2/catch.hpp>

#include "arbor/messages.hpp"
#include "event_bus.hpp"
#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

caf::behavior forwarder(caf::event_based_actor*, caf::actor to) {
  return {[=](event& e) { caf::anon_send(to, e); }};
}

} // namespace

TEST_CASE("event bus: an actor subscribed by subscribe_before_start gets the very next event") {
  test_config cfg;
  caf::actor_system sys{cfg};
  auto bus = sys.spawn(detail::event_bus, false);
  caf::scoped_actor me{sys};
  // An event-based subscriber, as the control actor and the metrics counter
  // are: it forwards what it gets. Its behaviour has not run yet when the
  // helper returns; the subscription must be in place all the same.
  auto fwd = sys.spawn(forwarder, caf::actor{me});
  REQUIRE(detail::subscribe_before_start(sys, bus, fwd));
  for (int i = 0; i < 50; ++i) {
    event e;
    e.what = event_kind::child_started;
    e.offender = "web#" + std::to_string(i);
    caf::anon_send(bus, e);
  }
  for (int i = 0; i < 50; ++i) {
    std::string got;
    me->receive([&](event& e) { got = e.offender; },
                caf::after(std::chrono::seconds(10)) >> [&] { got = "(nothing within 10 s)"; });
    CHECK(got == "web#" + std::to_string(i));
  }
  caf::anon_send_exit(fwd, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
}

TEST_CASE("event bus: subscribing no actor is refused") {
  test_config cfg;
  caf::actor_system sys{cfg};
  auto bus = sys.spawn(detail::event_bus, false);
  CHECK_FALSE(detail::subscribe_before_start(sys, bus, caf::actor{}));
  caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
}
