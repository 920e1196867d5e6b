#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "arbor/messages.hpp"
#include "arbor/spec.hpp"
#include "internal_messages.hpp"
#include "os/spawn.hpp"
#include "policy/instance_fsm.hpp"
#include "policy/restart_tracker.hpp"
#include "probe/prober.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// How an instance sits in the tree.
struct instance_links {
  caf::actor app;                  ///< its app supervisor (readiness, memory, reloads)
  caf::actor group;                ///< the app's group: counts restarts, applies its strategy
  bool group_counts_first = false; ///< the group limits intensity: ask it before each restart
  uint16_t port = 0;               ///< PORT of its runs (0 = none)
  /// A reload's replacement: until its first readiness an exit is neither
  /// restarted nor counted by the group (the app supervisor aborts the reload).
  bool trial = false;
};

/// One instance of an app: one OS process at a time, and its restart state
/// machine (policy/instance_fsm.hpp) with its own restart tracker. On an exit
/// it decides and spawns the replacement in the same handler, then tells its
/// app supervisor and group; it asks the group first only when the group
/// limits intensity.
///
/// start_atom -> bool    want up; spawn now (also cancels a pending backoff);
///                       true if a process runs afterwards. Resets the
///                       restart history (a start by hand is a fresh start)
/// stop_atom -> bool     want down; kill_signal to the group, SIGKILL after
///                       kill_timeout; replies once the process is gone
/// (start_atom, why) -> bool, (stop_atom, why) -> bool: the same, with the
///                       reason (arbor::reason) recorded in events and last_exit
/// (restart_atom, why)   graceful stop, then start again (memory_limit, cron)
/// status_atom -> instance_status
/// Readiness: a health check's first pass, else READY=1 (ready = "notify"),
/// else min_uptime of running; told to the app as (ready_atom, index, bool).
/// Failing liveness (`failures` in a row) restarts the run in place.
struct process_state {
  static inline const char* name = "process";

  std::shared_ptr<const app_spec> spec;
  uint32_t index = 0;
  std::string id;                        ///< "web.api#0"
  instance_links links;                  ///< its app supervisor and group, its PORT
  runtime_ptr rt;

  std::shared_ptr<os::spawn_plan> plan;  ///< built at the first start
  int out_fd = -1;
  int err_fd = -1;
  bool log_error_reported = false;

  instance_fsm_state fsm;                ///< phase, want_up, pending restart
  std::optional<restart_tracker> tracker;
  std::chrono::milliseconds pending_delay{0}; ///< of the restart in backoff
  std::chrono::steady_clock::time_point backoff_due{}; ///< when the armed backoff fires
  arbor::reason pending_why;             ///< reason of the coming restart
  int32_t pid = 0;
  std::chrono::steady_clock::time_point started{};
  int64_t started_wall_ms = 0;
  uint64_t gen = 0;                      ///< tags timers and group answers; bumped per phase
  uint32_t restarts = 0;
  std::string last_exit;
  std::string reason;
  std::vector<caf::typed_response_promise<bool>> stop_waiters;
  arbor::reason stop_why;                ///< why the current stop was asked for ("" = plain)
  /// Stopped for another reason than by hand (apply, scale down, a reload's
  /// old run, shutdown): the instance is going away, which is no policy for
  /// the next daemon to keep (its journal record still says wanted up).
  bool leaving = false;

  // Readiness and liveness (process_health.cpp).
  uint64_t run = 0;                      ///< bumped per run and per stop: tags probes/timers
  bool ready = false;                    ///< this run passed its readiness signal
  std::optional<probe::health_state> health; ///< apps with a health check
  std::string health_detail;             ///< last check's outcome (status)
  std::string notify_key;                ///< registered sd_notify socket ("" = none)

  // Its identity in every spawn's ARBOR_ID (os/identity.hpp).
  uint64_t spawn_gen = 0;                ///< of the current/last run (before any: the actor's)
  uint64_t spec_hash = 0;                ///< config::run_spec_hash of spec

  // Re-adoption after a daemon crash (process_adopt.cpp).
  uint64_t start_time = 0;               ///< /proc start time of `pid` (journal)
  int32_t start_time_pid = 0;            ///< the pid start_time belongs to
  bool adopted = false;                  ///< the current run was adopted (not our child)

  // Containment (process_cgroup.cpp).
  os::run_cgroup cg;                     ///< the current run's cgroups (empty: a process group)
  /// The last run's cgroup, which it left empty: the next spawn reuses it.
  os::run_cgroup spare;
  std::chrono::steady_clock::time_point kill_at{}; ///< of the stop under way: SIGKILL then

  proc_state phase() const { return fsm.phase; }

  process_state() = default;
  process_state(const process_state&) = delete;
  process_state& operator=(const process_state&) = delete;
  ~process_state();
};

caf::behavior process_actor(caf::stateful_actor<process_state>* self,
                            std::shared_ptr<const app_spec> spec, uint32_t index,
                            instance_links links, runtime_ptr rt);

/// Graceful in-place restart of the current run (memory limit, cron, health).
void restart_in_place(caf::stateful_actor<process_state>* self, reason why);

/// Runs one transition of the instance's machine that did not come from a
/// run's exit (readiness, adoption), with the reason its events carry.
void fsm_step(caf::stateful_actor<process_state>* self, instance_event e, std::string why = {});

/// The instance's status snapshot.
instance_status status_of(caf::stateful_actor<process_state>* self);

} // namespace arbor::detail
