// The instance state machine, cell by cell: every (state, event) pair of the
// table below is asserted, and a check at the end makes sure no cell of
// proc_state × instance_event is missing from it.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policy/instance_fsm.hpp"

using namespace arbor;
using ev = instance_event;
using ps = proc_state;

namespace {

constexpr uint16_t none = act_none, spawn = act_spawn, arm = act_arm_backoff, ask = act_ask_group,
                   tell = act_tell_group, sig = act_signal, kill = act_sigkill,
                   reply = act_reply_stop, gave_up = act_gave_up;

/// One cell: from `from` (wanted up unless it is stopped or failed), event
/// `e` leads to `to` with `actions`; `handled` false = nothing changes.
struct cell {
  ps from;
  ev e;
  ps to;
  uint16_t actions;
  bool handled;
  bool want_up_after;
};

/// Wanting up is what a process in that phase normally has.
instance_fsm_state at(ps phase) {
  instance_fsm_state s;
  s.phase = phase;
  s.want_up = phase != ps::stopped && phase != ps::failed;
  return s;
}

const std::vector<cell>& table() {
  // clang-format off
  static const std::vector<cell> t = {
    // from            event               to              actions              handled want_up
    {ps::stopped,  ev::start,          ps::starting, spawn,               true,  true},
    {ps::stopped,  ev::stop,           ps::stopped,  reply,               true,  false},
    {ps::stopped,  ev::restart,        ps::stopped,  none,                false, false},
    {ps::stopped,  ev::exit_restart,   ps::stopped,  none,                false, false},
    {ps::stopped,  ev::exit_backoff,   ps::stopped,  none,                false, false},
    {ps::stopped,  ev::exit_stay_down, ps::stopped,  none,                false, false},
    {ps::stopped,  ev::exit_give_up,   ps::stopped,  none,                false, false},
    {ps::stopped,  ev::exit_stopped,   ps::stopped,  none,                false, false},
    {ps::stopped,  ev::backoff_due,    ps::stopped,  none,                false, false},
    {ps::stopped,  ev::kill_due,       ps::stopped,  none,                false, false},
    {ps::stopped,  ev::group_allowed,  ps::stopped,  none,                false, false},
    {ps::stopped,  ev::group_refused,  ps::stopped,  none,                false, false},
    {ps::stopped,  ev::spawned,        ps::stopped,  none,                false, false},
    {ps::stopped,  ev::spawn_failed,   ps::stopped,  none,                false, false},
    {ps::stopped,  ev::adopted,        ps::running,  none,                true,  true},
    {ps::stopped,  ev::became_ready,   ps::stopped,  none,                false,  false},

    {ps::starting, ev::start,          ps::starting, none,                false, true},
    {ps::starting, ev::stop,           ps::starting, none,                false, true},
    {ps::starting, ev::restart,        ps::starting, none,                false, true},
    {ps::starting, ev::exit_restart,   ps::starting, spawn | tell,        true,  true},
    {ps::starting, ev::exit_backoff,   ps::backoff,  arm | tell,          true,  true},
    {ps::starting, ev::exit_stay_down, ps::stopped,  none,                true,  true},
    {ps::starting, ev::exit_give_up,   ps::failed,   gave_up,             true,  false},
    {ps::starting, ev::exit_stopped,   ps::starting, none,                false, true},
    {ps::starting, ev::backoff_due,    ps::starting, none,                false, true},
    {ps::starting, ev::kill_due,       ps::starting, none,                false, true},
    {ps::starting, ev::group_allowed,  ps::starting, none,                false, true},
    {ps::starting, ev::group_refused,  ps::starting, none,                false, true},
    {ps::starting, ev::spawned,        ps::running,  none,                true,  true},
    {ps::starting, ev::spawn_failed,   ps::failed,   gave_up,             true,  false},
    {ps::starting, ev::adopted,        ps::starting, none,                false, true},
    {ps::starting, ev::became_ready,   ps::starting, none,                false,  true},

    {ps::running,  ev::start,          ps::running,  none,                false, true},
    {ps::running,  ev::stop,           ps::stopping, sig,                 true,  false},
    {ps::running,  ev::restart,        ps::stopping, sig,                 true,  true},
    {ps::running,  ev::exit_restart,   ps::starting, spawn | tell,        true,  true},
    {ps::running,  ev::exit_backoff,   ps::backoff,  arm | tell,          true,  true},
    {ps::running,  ev::exit_stay_down, ps::stopped,  none,                true,  true},
    {ps::running,  ev::exit_give_up,   ps::failed,   gave_up,             true,  false},
    {ps::running,  ev::exit_stopped,   ps::running,  none,                false, true},
    {ps::running,  ev::backoff_due,    ps::running,  none,                false, true},
    {ps::running,  ev::kill_due,       ps::running,  none,                false, true},
    {ps::running,  ev::group_allowed,  ps::running,  none,                false, true},
    {ps::running,  ev::group_refused,  ps::running,  none,                false, true},
    {ps::running,  ev::spawned,        ps::running,  none,                false, true},
    {ps::running,  ev::spawn_failed,   ps::running,  none,                false, true},
    {ps::running,  ev::adopted,        ps::running,  none,                false, true},
    {ps::running,  ev::became_ready,   ps::ready,    none,                true,  true},

    {ps::ready,    ev::start,          ps::ready,    none,                false, true},
    {ps::ready,    ev::stop,           ps::stopping, sig,                 true,  false},
    {ps::ready,    ev::restart,        ps::stopping, sig,                 true,  true},
    {ps::ready,    ev::exit_restart,   ps::starting, spawn | tell,        true,  true},
    {ps::ready,    ev::exit_backoff,   ps::backoff,  arm | tell,          true,  true},
    {ps::ready,    ev::exit_stay_down, ps::stopped,  none,                true,  true},
    {ps::ready,    ev::exit_give_up,   ps::failed,   gave_up,             true,  false},
    {ps::ready,    ev::exit_stopped,   ps::ready,    none,                false, true},
    {ps::ready,    ev::backoff_due,    ps::ready,    none,                false, true},
    {ps::ready,    ev::kill_due,       ps::ready,    none,                false, true},
    {ps::ready,    ev::group_allowed,  ps::ready,    none,                false, true},
    {ps::ready,    ev::group_refused,  ps::ready,    none,                false, true},
    {ps::ready,    ev::spawned,        ps::ready,    none,                false, true},
    {ps::ready,    ev::spawn_failed,   ps::ready,    none,                false, true},
    {ps::ready,    ev::adopted,        ps::ready,    none,                false, true},
    {ps::ready,    ev::became_ready,   ps::ready,    none,                false,  true},

    {ps::stopping, ev::start,          ps::stopping, none,                true,  true},
    {ps::stopping, ev::stop,           ps::stopping, none,                true,  false},
    {ps::stopping, ev::restart,        ps::stopping, none,                false, true},
    {ps::stopping, ev::exit_restart,   ps::stopping, none,                false, true},
    {ps::stopping, ev::exit_backoff,   ps::stopping, none,                false, true},
    {ps::stopping, ev::exit_stay_down, ps::stopping, none,                false, true},
    {ps::stopping, ev::exit_give_up,   ps::stopping, none,                false, true},
    {ps::stopping, ev::exit_stopped,   ps::stopped,  reply,               true,  true},
    {ps::stopping, ev::backoff_due,    ps::stopping, none,                false, true},
    {ps::stopping, ev::kill_due,       ps::stopping, kill,                true,  true},
    {ps::stopping, ev::group_allowed,  ps::stopping, none,                false, true},
    {ps::stopping, ev::group_refused,  ps::stopping, none,                false, true},
    {ps::stopping, ev::spawned,        ps::stopping, none,                false, true},
    {ps::stopping, ev::spawn_failed,   ps::stopping, none,                false, true},
    {ps::stopping, ev::adopted,        ps::stopping, none,                false, true},
    {ps::stopping, ev::became_ready,   ps::stopping, none,                false,  true},

    {ps::backoff,  ev::start,          ps::starting, spawn,               true,  true},
    {ps::backoff,  ev::stop,           ps::stopped,  reply,               true,  false},
    {ps::backoff,  ev::restart,        ps::backoff,  none,                false, true},
    {ps::backoff,  ev::exit_restart,   ps::backoff,  none,                false, true},
    {ps::backoff,  ev::exit_backoff,   ps::backoff,  none,                false, true},
    {ps::backoff,  ev::exit_stay_down, ps::backoff,  none,                false, true},
    {ps::backoff,  ev::exit_give_up,   ps::backoff,  none,                false, true},
    {ps::backoff,  ev::exit_stopped,   ps::backoff,  none,                false, true},
    {ps::backoff,  ev::backoff_due,    ps::starting, spawn,               true,  true},
    {ps::backoff,  ev::kill_due,       ps::backoff,  none,                false, true},
    {ps::backoff,  ev::group_allowed,  ps::starting, spawn,               true,  true},
    {ps::backoff,  ev::group_refused,  ps::stopped,  none,                true,  true},
    {ps::backoff,  ev::spawned,        ps::backoff,  none,                false, true},
    {ps::backoff,  ev::spawn_failed,   ps::backoff,  none,                false, true},
    {ps::backoff,  ev::adopted,        ps::backoff,  none,                false, true},
    {ps::backoff,  ev::became_ready,   ps::backoff,  none,                false,  true},

    {ps::failed,   ev::start,          ps::starting, spawn,               true,  true},
    {ps::failed,   ev::stop,           ps::stopped,  reply,               true,  false},
    {ps::failed,   ev::restart,        ps::failed,   none,                false, false},
    {ps::failed,   ev::exit_restart,   ps::failed,   none,                false, false},
    {ps::failed,   ev::exit_backoff,   ps::failed,   none,                false, false},
    {ps::failed,   ev::exit_stay_down, ps::failed,   none,                false, false},
    {ps::failed,   ev::exit_give_up,   ps::failed,   none,                false, false},
    {ps::failed,   ev::exit_stopped,   ps::failed,   none,                false, false},
    {ps::failed,   ev::backoff_due,    ps::failed,   none,                false, false},
    {ps::failed,   ev::kill_due,       ps::failed,   none,                false, false},
    {ps::failed,   ev::group_allowed,  ps::failed,   none,                false, false},
    {ps::failed,   ev::group_refused,  ps::failed,   none,                false, false},
    {ps::failed,   ev::spawned,        ps::failed,   none,                false, false},
    {ps::failed,   ev::spawn_failed,   ps::failed,   none,                false, false},
    {ps::failed,   ev::adopted,        ps::failed,   none,                false, false},
    {ps::failed,   ev::became_ready,   ps::failed,   none,                false,  false},
  };
  // clang-format on
  return t;
}

constexpr ps all_phases[] = {ps::stopped,  ps::starting, ps::running, ps::ready,
                             ps::stopping, ps::backoff,  ps::failed};

} // namespace

TEST_CASE("instance_fsm: every (state, event) cell does what the table says") {
  for (const auto& c : table()) {
    INFO(to_string(c.from) << " x " << to_string(c.e));
    auto step = transition(at(c.from), c.e);
    CHECK(step.next.phase == c.to);
    CHECK(step.actions == c.actions);
    CHECK(step.handled == c.handled);
    CHECK(step.next.want_up == c.want_up_after);
  }
}

TEST_CASE("instance_fsm: the table covers every state x event pair exactly once") {
  std::set<std::pair<int, int>> seen;
  for (const auto& c : table())
    CHECK(seen.insert({static_cast<int>(c.from), static_cast<int>(c.e)}).second);
  CHECK(seen.size() == std::size(all_phases) * instance_event_count);
  for (auto p : all_phases)
    for (int e = 0; e < instance_event_count; ++e)
      CHECK(seen.count({static_cast<int>(p), e}) == 1);
}

TEST_CASE("instance_fsm: a group that limits intensity is asked before every restart") {
  for (auto from : {ps::running, ps::ready, ps::starting}) {
    auto s = at(from);
    s.ask_group_first = true;
    auto now = transition(s, ev::exit_restart);
    CHECK(now.next.phase == ps::backoff);
    CHECK(now.actions == ask);
    CHECK_FALSE(now.next.delay_pending);
    auto later = transition(s, ev::exit_backoff);
    CHECK(later.next.phase == ps::backoff);
    CHECK(later.actions == ask);
    CHECK(later.next.delay_pending);
    // Its word: go now, arm the delay, or stay down (it stops the app).
    auto go_now = transition(now.next, ev::group_allowed);
    CHECK(go_now.next.phase == ps::starting);
    CHECK(go_now.actions == spawn);
    auto go_later = transition(later.next, ev::group_allowed);
    CHECK(go_later.next.phase == ps::backoff);
    CHECK(go_later.actions == arm);
    CHECK_FALSE(go_later.next.delay_pending);
    auto refused = transition(later.next, ev::group_refused);
    CHECK(refused.next.phase == ps::stopped);
    CHECK(refused.actions == none);
  }
}

TEST_CASE("instance_fsm: a restart in place starts again once the old run is gone") {
  auto stopping = transition(at(ps::running), ev::restart).next;
  REQUIRE(stopping.restart_after_stop);
  auto gone = transition(stopping, ev::exit_stopped);
  CHECK(gone.next.phase == ps::starting);
  CHECK(gone.actions == (reply | spawn));
  CHECK_FALSE(gone.next.restart_after_stop);
  // A stop meanwhile cancels it.
  auto cancelled = transition(transition(stopping, ev::stop).next, ev::exit_stopped);
  CHECK(cancelled.next.phase == ps::stopped);
  CHECK(cancelled.actions == reply);
}

TEST_CASE("instance_fsm: a start while stopping brings the instance back once stopped") {
  auto stopping = transition(at(ps::running), ev::stop).next;
  REQUIRE_FALSE(stopping.want_up);
  auto wanted = transition(stopping, ev::start).next;
  CHECK(wanted.want_up);
  auto gone = transition(wanted, ev::exit_stopped);
  CHECK(gone.next.phase == ps::starting);
  CHECK(gone.actions == (reply | spawn));
}
