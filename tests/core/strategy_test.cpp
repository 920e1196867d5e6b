// OTP semantics on groups: strategies, restart intensity, escalation.

#include <catch2/catch.hpp>

#include <csignal>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

const node_status* find(const node_status& n, const std::string& name) {
  if (n.name == name) return &n;
  for (auto& c : n.children)
    if (auto* x = find(c, name)) return x;
  return nullptr;
}

std::map<std::string, int32_t> pids(harness& h) {
  std::map<std::string, int32_t> out;
  auto st = h.tree->status();
  REQUIRE(st);
  std::function<void(const node_status&)> walk = [&](const node_status& n) {
    for (auto& i : n.instances) out[i.id] = i.pid;
    for (auto& c : n.children) walk(c);
  };
  walk(*st);
  return out;
}

std::string three_sleepers(const std::string& strategy) {
  auto s = child_args({"sleep"});
  return "[g]\nstrategy = \"" + strategy + "\"\n[g.a]\nargs = " + s + "\n[g.b]\nargs = " + s
         + "\n[g.c]\nargs = " + s + "\n";
}

} // namespace

TEST_CASE("strategy: outer{intensity 1} > inner{intensity 1} > boom: 4 runs, both fail") {
  harness h{"[outer]\nintensity = 1\nperiod = 60\n[outer.inner]\nintensity = 1\nperiod = 60\n"
            "[outer.inner.boom]\nargs = " + child_args({"exit", "1"}) + "\n"};
  h.start();
  auto outer_gave_up = h.wait(
    [](const event& e) { return e.what == event_kind::gave_up && e.supervisor == "outer"; }, 20s);
  CHECK(outer_gave_up.reason.find("intensity 1 in 60s exceeded") != std::string::npos);
  CHECK(h.count(event_kind::child_started, "outer.inner.boom#0") == 4);
  // inner gave up twice; outer restarted it once in between (escalation).
  size_t inner_gave_up = 0, escalations = 0;
  for (auto& e : h.history()) {
    if (e.what == event_kind::gave_up && e.supervisor == "outer.inner") ++inner_gave_up;
    if (e.what == event_kind::restarting && e.supervisor == "outer"
        && e.offender == "outer.inner") {
      ++escalations;
      CHECK(e.cause == restart_cause::escalation);
    }
  }
  CHECK(inner_gave_up == 2);
  CHECK(escalations == 1);
  auto st = h.tree->status();
  REQUIRE(st);
  auto* outer = find(*st, "outer");
  auto* inner = find(*st, "outer.inner");
  REQUIRE(outer);
  REQUIRE(inner);
  CHECK(outer->state == "failed");
  CHECK(outer->reason.find("intensity 1 in 60s exceeded") != std::string::npos);
  CHECK(inner->state == "failed");
  CHECK(inner->reason.find("intensity 1 in 60s exceeded") != std::string::npos);
  // No endless loop: the root has no limit, so outer stays failed.
  CHECK(h.count(event_kind::child_started, "outer.inner.boom#0") == 4);
}

TEST_CASE("strategy: one_for_all restarts every other child when one crashes") {
  harness h{three_sleepers("one_for_all")};
  h.start();
  for (auto id : {"g.a#0", "g.b#0", "g.c#0"}) h.wait(event_kind::child_started, id);
  auto before = pids(h);
  REQUIRE(::kill(before["g.b#0"], SIGKILL) == 0);
  for (auto id : {"g.a#0", "g.b#0", "g.c#0"}) h.wait(event_kind::child_started, id);
  auto sib = h.wait(
    [](const event& e) { return e.what == event_kind::restarting && e.offender == "g.a#0"; });
  CHECK(sib.reason.find("sibling: g.b#0 signal(SIGKILL) (one_for_all)") != std::string::npos);
  CHECK(sib.cause == restart_cause::sibling);
  auto after = pids(h);
  for (auto id : {"g.a#0", "g.b#0", "g.c#0"}) CHECK(after[id] != before[id]);
  for (auto id : {"g.a#0", "g.c#0"}) CHECK(wait_gone(before[id]));
}

TEST_CASE("strategy: rest_for_one restarts the children after the crashed one, not before") {
  harness h{three_sleepers("rest_for_one")};
  h.start();
  for (auto id : {"g.a#0", "g.b#0", "g.c#0"}) h.wait(event_kind::child_started, id);
  auto before = pids(h);
  REQUIRE(::kill(before["g.b#0"], SIGKILL) == 0);
  h.wait(event_kind::child_started, "g.b#0");
  h.wait(event_kind::child_started, "g.c#0");
  auto after = pids(h);
  CHECK(after["g.a#0"] == before["g.a#0"]);
  CHECK(after["g.b#0"] != before["g.b#0"]);
  CHECK(after["g.c#0"] != before["g.c#0"]);
  CHECK(h.count(event_kind::child_started, "g.a#0") == 1);
}

TEST_CASE("strategy: one_for_one leaves siblings alone") {
  harness h{three_sleepers("one_for_one")};
  h.start();
  for (auto id : {"g.a#0", "g.b#0", "g.c#0"}) h.wait(event_kind::child_started, id);
  auto before = pids(h);
  REQUIRE(::kill(before["g.b#0"], SIGKILL) == 0);
  h.wait(event_kind::child_started, "g.b#0");
  auto after = pids(h);
  CHECK(after["g.a#0"] == before["g.a#0"]);
  CHECK(after["g.c#0"] == before["g.c#0"]);
  CHECK(h.count(event_kind::restarting_siblings) == 0);
}

TEST_CASE("strategy: an app past max_restarts under an unlimited group stays failed") {
  harness h{"[g]\n[g.flaky]\nargs = " + child_args({"exit", "1"})
            + "\nmax_restarts = 1\nbackoff_base_ms = 1\n"};
  h.start();
  h.wait(event_kind::gave_up, "g.flaky#0");
  auto st = h.tree->status();
  REQUIRE(st);
  CHECK(find(*st, "g.flaky")->state == "failed");
  CHECK(find(*st, "g")->state == "failed"); // a failed child shows on its group
  CHECK(find(*st, "g")->reason.empty());    // but the group itself did not give up
  CHECK(h.count(event_kind::child_started, "g.flaky#0") == 2);
}

TEST_CASE("strategy: a manual restart revives a group that gave up") {
  harness h{"[g]\nintensity = 0\n[g.once]\nargs = " + child_args({"exit", "1"}) + "\n"};
  h.start();
  h.wait([](const event& e) { return e.what == event_kind::gave_up && e.supervisor == "g"; });
  caf::scoped_actor self{h.sys};
  bool ok = false;
  self->request(h.tree->root(), 10s, restart_atom::value, std::string{"g"}, manual())
    .receive([&](std::vector<std::string>&) { ok = true; }, [&](caf::error&) {});
  CHECK(ok);
  // It runs again (and, exiting 1, gives up again: intensity 0 allows no restart).
  h.wait([](const event& e) {
    return e.what == event_kind::child_started && e.offender == "g.once#0";
  });
  h.wait([](const event& e) { return e.what == event_kind::gave_up && e.supervisor == "g"; });
  CHECK(h.count(event_kind::child_started, "g.once#0") == 2);
}
