#pragma once

// The messages of the supervision tree: commands (verbs) and events (past
// tense). Everything here can be sent by an embedder's actors.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "arbor/event_kind.hpp"
#include "arbor/spec.hpp"
#include "arbor/state.hpp"

namespace arbor {

// Commands (atoms are at most 10 characters in CAF 0.17).
using start_atom = caf::atom_constant<caf::atom("start")>;     ///< want up, start
using stop_atom = caf::atom_constant<caf::atom("stop")>;       ///< want down; replies when stopped
using status_atom = caf::atom_constant<caf::atom("status")>;   ///< replies node_status / instance_status
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>; ///< bus: send me events (-> bool)
using halt_atom = caf::atom_constant<caf::atom("halt")>;       ///< SIGKILL every process group now
using restart_atom = caf::atom_constant<caf::atom("restart")>; ///< stop, then start
using scale_atom = caf::atom_constant<caf::atom("scale")>;     ///< set an app's instance count
using signal_atom = caf::atom_constant<caf::atom("signal")>;   ///< send a signal to process groups
using apply_atom = caf::atom_constant<caf::atom("apply")>;     ///< reconcile with a new spec
using reload_atom = caf::atom_constant<caf::atom("reload")>;   ///< rolling, zero-downtime restart

// Addressed commands (the tree routes by dotted path; "" is the root,
// "web.api#1" one instance): (start_atom, addr, why), (stop_atom, addr, why),
// (restart_atom, addr, why), (reload_atom, addr, why)
// -> std::vector<std::string> affected instance ids
// (`why` is an arbor::reason: its text shows in events and status, its cause
// in the `restarting` events it leads to; manual() for a command from outside);
// (scale_atom, addr, uint32_t n) -> uint32_t previous count;
// (signal_atom, int sig, addr) -> std::vector<std::string> ids, std::vector<int32_t> pids.
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;  ///< bus: stop sending

/// Something that happened in the tree. Logged OTP-style:
/// `supervisor=web.api event=child_exited reason=exit(1) offender=web.api#0`.
struct event {
  int64_t at_ns = 0;        ///< wall clock, ns since epoch
  std::string supervisor;   ///< the app or group that reports it
  event_kind what = event_kind::child_started; ///< to_string: "child_started", ...
  std::string offender;     ///< the instance ("web.api#0") or child concerned
  std::string reason;       ///< "exit(1)", "signal(SIGKILL)", a failure message
  int32_t pid = 0;
  proc_state state = proc_state::stopped; ///< the offender's state after the event
  /// Why it restarts: set on `restarting`, `backoff` (the restart it delays)
  /// and `restarting_siblings`; `none` on every other event.
  restart_cause cause = restart_cause::none;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("arbor.event"), x.at_ns, x.supervisor, x.what,
           x.offender, x.reason, x.pid, x.state, x.cause);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reason& x) {
  return f(caf::meta::type_name("arbor.reason"), x.cause, x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, instance_status& x) {
  return f(caf::meta::type_name("arbor.instance_status"), x.id, x.index, x.state,
           x.want_up, x.pid, x.restarts, x.started_at_ms, x.uptime_ms, x.memory_bytes,
           x.cpu_percent, x.last_exit, x.reason, x.port, x.health, x.short_runs,
           x.next_try_ms, x.cgroup, x.processes, x.uid, x.gid);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("arbor.node_status"), x.name, x.is_group, x.strategy,
           x.state, x.reason, x.intensity_used, x.instances, x.children);
}

/// What `apply` did, as app paths.
struct apply_report {
  std::vector<std::string> added, removed, changed, scaled, unchanged;
  std::vector<std::string> reloaded; ///< of `changed`: replaced by a rolling reload
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_report& x) {
  return f(caf::meta::type_name("arbor.apply_report"), x.added, x.removed, x.changed, x.scaled,
           x.unchanged, x.reloaded);
}

} // namespace arbor

// Specs travel between the tree's actors (local only, never serialized).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const arbor::group_spec>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const arbor::app_spec>)
