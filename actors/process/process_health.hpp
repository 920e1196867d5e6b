#pragma once

// A process actor's readiness and liveness: health checks on the prober,
// sd_notify READY=1, or min_uptime. Called by process_actor.cpp.

#include <cstdint>
#include <functional>
#include <string>

#include <sys/types.h>

#include <caf/all.hpp>

#include "internal_messages.hpp"
#include "process_actor.hpp"

namespace arbor::detail {

using process_self = caf::stateful_actor<process_state>*;

/// Publishes an event about this instance (pid -1: its current pid).
void emit(process_self self, event_kind what, std::string reason = {}, int32_t pid = -1,
          restart_cause cause = restart_cause::none);

/// The actor message for an exit the watcher saw.
child_exited make_exit_msg(const os::exit_record& r);

/// How an app's instances become ready.
enum class ready_mode { check, notify, uptime };
ready_mode ready_mode_of(const app_spec& spec);

/// Registers the instance's sd_notify socket if the app wants one; returns
/// the NOTIFY_SOCKET value ("" if none) or sets `error`.
std::string notify_socket(process_self self, std::string& error);
/// Unregisters it (the actor is going away).
void drop_notify(process_state& s);

/// Resolves the command and builds the environment (once per start from
/// stopped/failed); returns "" or why the command cannot run.
std::string build_plan(process_self self);
/// Opens the instance's pipes into the log pump if not open yet; they stay
/// open across restarts. The app runs even when they cannot be made (its
/// output is discarded), and that is said once.
void open_logs(process_self self);

/// A new run (pid) began: not ready; schedules its first check or timer.
void begin_run(process_self self);
/// The run ends or is being stopped: readiness is lost (told to the parent).
void end_run(process_self self);

/// Message handlers.
void on_probe_due(process_self self, uint64_t run);
void on_probed(process_self self, uint64_t run, bool ok, std::string& detail, int64_t took_ms);
void on_notify(process_self self, bool ready, std::string& status);
void on_uptime(process_self self, uint64_t run);

} // namespace arbor::detail

namespace arbor::detail {

// Journal and re-adoption (process_adopt.cpp).

/// Writes this instance's record to the journal (no-op without one).
void write_journal(process_self self);
/// At a start from nothing: the previous daemon's record of this instance,
/// if any. Adopts its process if still alive (true: nothing to spawn), or
/// carries its counters over; keeps it down if it was stopped (true).
bool try_adopt(process_self self);
/// An adopted run (not our child) ended, its status unknown to the exit
/// watcher: the keeper reaped it (it is the keeper's child since its
/// daemon died), so `ex` takes the real status when the keeper has it.
/// A blocking round trip in the actor, kept on purpose: once per adopted
/// run, answered from the keeper's memory in microseconds, at most 250 ms.
void learn_adopted_exit(process_self self, child_exited& ex);

/// The run of generation `gen`, led by `leader`, ended: stops what it left
/// outside its process group (a setsid child, a double fork's daemon, GNU timeout's child):
/// kill_signal now, SIGKILL after kill_timeout. As a subreaper (a tree with
/// a state_dir) those are our children now; for an `adopted` run (not our
/// child) the home's processes are searched. No-op without a state_dir.
void stop_leftovers(process_self self, pid_t leader, uint64_t gen, bool adopted);

// Containment (process_cgroup.cpp).

/// Spawns the run with the plan, in cgroups of its own when the daemon has
/// them (made here, with the app's limits); limits without cgroups fail.
os::spawn_result spawn_contained(process_self self);
/// `sig` to every process of the run: its cgroup's, else its process group.
void signal_run(process_self self, int sig);
/// SIGKILL to every process of the run (cgroup.kill, else the group).
void kill_run(process_self self);
/// The run led by `ex.pid` ended. Returns false when the instance must wait
/// (a stop, and the cgroup still holds processes: `ex` comes again, drained,
/// once it is empty). Otherwise `ended` is the run's cgroup, for
/// drain_ended_run once the next run is spawned, and `cause` says whether
/// the kernel's OOM killer ended the run.
bool end_contained_run(process_self self, child_exited& ex, restart_cause& cause,
                       os::run_cgroup& ended);
/// What is left in an ended run's cgroup gets kill_signal now (event
/// `leftovers`), SIGKILL after kill_timeout; the cgroup goes once empty.
void drain_ended_run(process_self self, os::run_cgroup ended, pid_t leader);
/// The cgroup of an adopted run (after a daemon restart), if it has one.
void find_adopted_cgroup(process_self self);

} // namespace arbor::detail
