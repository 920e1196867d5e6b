#pragma once

// The restart state machine of one instance (s6-supervise's shape): every
// transition of a process actor is one call of `transition`, state × event →
// new state + actions. Pure: no clock, no actor, no process. The process
// actor turns what happens (a start request, an exit and the restart
// tracker's verdict on it, a timer) into an event, and carries out the
// actions it gets back.

#include <cstdint>

#include "arbor/state.hpp"

namespace arbor {

/// What happened to an instance, as the machine sees it. The exit_* events
/// also follow a spawn that failed for want of processes, memory or
/// descriptors (in `starting`): that counts as a run that ended at once.
enum class instance_event : uint8_t {
  start,          ///< wanted up (operator, group, scale)
  stop,           ///< wanted down
  restart,        ///< graceful restart in place (memory limit, cron, health)
  exit_restart,   ///< the run ended unasked; the tracker says restart now
  exit_backoff,   ///< ... restart after a delay
  exit_stay_down, ///< ... the policy keeps it down (restart=never, stop_exit_codes)
  exit_give_up,   ///< ... too many short runs, or the command cannot run
  exit_stopped,   ///< the run ended while it was being stopped
  backoff_due,    ///< the backoff timer fired
  kill_due,       ///< kill_timeout passed and the run is still there
  group_allowed,  ///< the group counted this restart and lets it happen
  group_refused,  ///< the group counted it and gives up (it stops the app)
  spawned,        ///< the spawn action succeeded
  spawn_failed,   ///< the command cannot run (no such file, cwd, ...)
  adopted,        ///< a run a previous daemon left alive was taken over
  became_ready,   ///< the run passed its readiness signal
};
inline constexpr int instance_event_count = 16;

/// What the process actor does after a transition, in this order.
enum instance_action : uint16_t {
  act_none = 0,
  act_spawn = 1 << 0,       ///< spawn a run now (then feed spawned, spawn_failed or exit_*)
  act_arm_backoff = 1 << 1, ///< arm the backoff timer with the pending delay
  act_ask_group = 1 << 2,   ///< ask the group to count the restart first (it answers)
  act_tell_group = 1 << 3,  ///< tell the group a run ended (counted, strategy applied)
  act_signal = 1 << 4,      ///< kill_signal to the process group; arm the kill timer
  act_sigkill = 1 << 5,     ///< SIGKILL to the process group
  act_reply_stop = 1 << 6,  ///< answer whoever waits for the stop
  act_gave_up = 1 << 7,     ///< the instance failed: tell the group (it may restart the app)
};

/// The machine's state: the phase the instance shows, plus what it wants.
struct instance_fsm_state {
  proc_state phase = proc_state::stopped;
  bool want_up = false;
  bool restart_after_stop = false; ///< start again once the stopping run is gone
  bool ask_group_first = false;    ///< the group limits intensity: it counts before a restart
  bool delay_pending = false;      ///< the restart the group is asked about has a delay
};

struct instance_step {
  instance_fsm_state next;
  uint16_t actions = act_none;
  bool handled = true;             ///< false: the event means nothing in this state
};

/// The one transition function.
instance_step transition(const instance_fsm_state& s, instance_event e);

const char* to_string(instance_event e);

} // namespace arbor
