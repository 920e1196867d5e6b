#pragma once

// Messages between the tree's own actors (not part of the public API).

#include <cstdint>
#include <string>

#include <caf/all.hpp>

namespace arbor::detail {

using exited_atom = caf::atom_constant<caf::atom("exited")>;   ///< process → app supervisor
using timer_atom = caf::atom_constant<caf::atom("timer")>;     ///< backoff timer (gen-tagged)
using kill_atom = caf::atom_constant<caf::atom("kill")>;       ///< kill_timeout timer (gen-tagged)
using cron_atom = caf::atom_constant<caf::atom("cron")>;       ///< cron timer (gen, target ms)
using watch_atom = caf::atom_constant<caf::atom("watch")>;     ///< a watched file changed (path)
using probe_atom = caf::atom_constant<caf::atom("probe")>;     ///< time for a health check (run)
/// A health check ended: (probed_atom, run, ok, detail, took_ms), prober → process.
using probed_atom = caf::atom_constant<caf::atom("probed")>;
/// An sd_notify datagram: (notify_atom, ready, status text), listener → process.
using notify_atom = caf::atom_constant<caf::atom("notify")>;
using uptime_atom = caf::atom_constant<caf::atom("uptime")>;   ///< min_uptime readiness timer (run)
/// (ready_atom, index, ready): an instance became ready / stopped being ready,
/// process → app supervisor.
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using reload_timeout_atom = caf::atom_constant<caf::atom("reloadto")>; ///< reload step timer (gen)

/// From the sampler thread to an app supervisor: one instance's tree RSS.
struct memory_sample {
  uint32_t index = 0;
  int32_t pid = 0;
  uint64_t rss = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_sample& x) {
  return f(caf::meta::type_name("arbor.memory_sample"), x.index, x.pid, x.rss);
}

/// From the exit watcher thread to a process actor.
struct child_exited {
  int32_t pid = 0;
  bool signaled = false;
  bool core_dumped = false;
  int32_t code = 0;
  int64_t at_ns = 0;        ///< steady clock
  std::string description;  ///< "exit(1)", "signal(SIGKILL)"
  /// Sent again once the run's cgroup is empty (a stop waits for all of it).
  bool drained = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_exited& x) {
  return f(caf::meta::type_name("arbor.child_exited"), x.pid, x.signaled,
           x.core_dumped, x.code, x.at_ns, x.description, x.drained);
}

/// From a process actor to its app supervisor: a run ended (the instance
/// has decided and acted already; the app needs it for a reload's
/// replacement).
struct run_ended {
  uint32_t index = 0;
  bool signaled = false;
  int32_t code = 0;
  int64_t uptime_ms = 0;
  std::string description;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_ended& x) {
  return f(caf::meta::type_name("arbor.run_ended"), x.index, x.signaled, x.code,
           x.uptime_ms, x.description);
}

/// From an instance (for its app) or a group to its group, as a request: one
/// restart event. The group counts it against its intensity and applies its
/// strategy, then answers whether the restart may go ahead (true), or is
/// the group's (false: the group is giving up, or restarts the child fresh
/// itself). Only an instance whose group limits intensity waits for it.
struct child_event {
  std::string child;     ///< the child's name (dotted path)
  bool gave_up = false;  ///< false: an instance crashed; true: the child gave up (failed)
  std::string reason;    ///< what happened, for events and status
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_event& x) {
  return f(caf::meta::type_name("arbor.child_event"), x.child, x.gave_up, x.reason);
}

/// From a process actor to its app supervisor: the command cannot run at all.
struct spawn_failed {
  uint32_t index = 0;
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, spawn_failed& x) {
  return f(caf::meta::type_name("arbor.spawn_failed"), x.index, x.reason);
}

} // namespace arbor::detail
