// An event as the control protocol's JSON: exactly the fields and strings
// src/proto/PROTOCOL.md documents (the kind as its text, no other field).

#include <catch2/catch.hpp>

#include "arbor/messages.hpp"
#include "daemon/control_json.hpp"

using namespace arbor;
using json = nlohmann::json;

TEST_CASE("event_json: the documented example, field for field") {
  event e;
  e.at_ns = 1795262403412000000;
  e.supervisor = "web.api";
  e.what = event_kind::child_exited;
  e.offender = "web.api#0";
  e.reason = "exit(1)";
  e.pid = 4242;
  e.state = proc_state::stopped;
  // The example of PROTOCOL.md's `event`, verbatim.
  auto documented = json::parse(R"js({"at":"2026-11-21T12:00:03.412Z","at_ns":1795262403412000000,
 "supervisor":"web.api","event":"child_exited","offender":"web.api#0",
 "reason":"exit(1)","pid":4242,"state":"stopped"})js");
  CHECK(detail::event_json(e) == documented);
}

TEST_CASE("event_json: every kind is written as its text, the cause stays out") {
  for (int i = 0; i < event_kind_count; ++i) {
    event e;
    e.what = static_cast<event_kind>(i);
    e.cause = restart_cause::cron;
    auto j = detail::event_json(e);
    INFO(to_string(e.what));
    CHECK(j.at("event") == to_string(e.what));
    CHECK_FALSE(j.contains("cause"));
    CHECK(j.size() == 8);
  }
}
