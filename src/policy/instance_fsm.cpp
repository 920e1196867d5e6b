#include "policy/instance_fsm.hpp"

namespace arbor {

namespace {

using ev = instance_event;
using ps = proc_state;

bool has_run(ps p) { return p == ps::running || p == ps::ready; }

instance_step same(const instance_fsm_state& s) { return {s, act_none, false}; }

instance_step go(instance_fsm_state s, ps phase, uint16_t actions) {
  s.phase = phase;
  return {s, actions, true};
}

/// A run ended unasked and the tracker wants it back (now or after a delay).
instance_step restart_after_exit(instance_fsm_state s, bool delayed) {
  if (s.ask_group_first) {
    s.delay_pending = delayed;
    return go(s, ps::backoff, act_ask_group);
  }
  if (delayed) return go(s, ps::backoff, act_arm_backoff | act_tell_group);
  return go(s, ps::starting, act_spawn | act_tell_group);
}

} // namespace

instance_step transition(const instance_fsm_state& cur, instance_event e) {
  auto s = cur;
  const bool run = has_run(s.phase);
  // A failed spawn for want of resources is a run that ended at once.
  const bool ended = run || s.phase == ps::starting;
  switch (e) {
    case ev::start:
      if (s.phase == ps::stopping) {
        s.want_up = true;
        s.restart_after_stop = true;
        return go(s, ps::stopping, act_none);
      }
      if (s.phase == ps::stopped || s.phase == ps::failed || s.phase == ps::backoff) {
        s.want_up = true;
        return go(s, ps::starting, act_spawn);
      }
      return same(s); // starting or up already
    case ev::stop:
      if (s.phase == ps::starting) return same(s);
      s.want_up = false;
      s.restart_after_stop = false;
      if (run) return go(s, ps::stopping, act_signal);
      if (s.phase == ps::stopping) return go(s, ps::stopping, act_none);
      return go(s, ps::stopped, act_reply_stop);
    case ev::restart:
      if (!run) return same(s);
      s.restart_after_stop = true;
      return go(s, ps::stopping, act_signal);
    case ev::exit_restart:
      return ended ? restart_after_exit(s, false) : same(s);
    case ev::exit_backoff:
      return ended ? restart_after_exit(s, true) : same(s);
    case ev::exit_stay_down:
      return ended ? go(s, ps::stopped, act_none) : same(s);
    case ev::exit_give_up:
      if (!ended) return same(s);
      s.want_up = false;
      return go(s, ps::failed, act_gave_up);
    case ev::exit_stopped:
      if (s.phase != ps::stopping) return same(s);
      if (s.restart_after_stop && s.want_up) {
        s.restart_after_stop = false;
        return go(s, ps::starting, act_reply_stop | act_spawn);
      }
      s.restart_after_stop = false;
      return go(s, ps::stopped, act_reply_stop);
    case ev::backoff_due:
      return s.phase == ps::backoff ? go(s, ps::starting, act_spawn) : same(s);
    case ev::kill_due:
      return s.phase == ps::stopping ? go(s, ps::stopping, act_sigkill) : same(s);
    case ev::group_allowed:
      if (s.phase != ps::backoff) return same(s);
      if (s.delay_pending) {
        s.delay_pending = false;
        return go(s, ps::backoff, act_arm_backoff);
      }
      return go(s, ps::starting, act_spawn);
    case ev::group_refused:
      if (s.phase != ps::backoff) return same(s);
      s.delay_pending = false;
      return go(s, ps::stopped, act_none);
    case ev::spawned:
      return s.phase == ps::starting ? go(s, ps::running, act_none) : same(s);
    case ev::spawn_failed:
      if (s.phase != ps::starting) return same(s);
      s.want_up = false;
      return go(s, ps::failed, act_gave_up);
    case ev::adopted:
      if (s.phase != ps::stopped) return same(s);
      s.want_up = true;
      return go(s, ps::running, act_none);
    case ev::became_ready:
      return s.phase == ps::running ? go(s, ps::ready, act_none) : same(s);
  }
  return same(s);
}

const char* to_string(instance_event e) {
  switch (e) {
    case ev::start: return "start";
    case ev::stop: return "stop";
    case ev::restart: return "restart";
    case ev::exit_restart: return "exit_restart";
    case ev::exit_backoff: return "exit_backoff";
    case ev::exit_stay_down: return "exit_stay_down";
    case ev::exit_give_up: return "exit_give_up";
    case ev::exit_stopped: return "exit_stopped";
    case ev::backoff_due: return "backoff_due";
    case ev::kill_due: return "kill_due";
    case ev::group_allowed: return "group_allowed";
    case ev::group_refused: return "group_refused";
    case ev::spawned: return "spawned";
    case ev::spawn_failed: return "spawn_failed";
    case ev::adopted: return "adopted";
    case ev::became_ready: return "became_ready";
  }
  return "?";
}

} // namespace arbor
