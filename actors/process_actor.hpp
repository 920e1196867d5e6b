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
#include "probe/prober.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// One instance of an app: one OS process at a time. Mechanism only: it
/// spawns, watches, stops and reports; its app supervisor decides restarts.
///
/// start_atom -> bool    want up; spawn now (also cancels a pending backoff);
///                       true if a process runs afterwards
/// stop_atom -> bool     want down; kill_signal to the group, SIGKILL after
///                       kill_timeout; replies once the process is gone
/// respawn_atom, ms, why restart (decided by the app supervisor), maybe delayed
/// giveup_atom, why      enter failed
/// (start_atom, why) -> bool, (stop_atom, why) -> bool: the same, with the
///                       reason recorded in events and last_exit
/// (restart_atom, why)   graceful stop, then start again (memory_limit, cron)
/// status_atom -> instance_status
/// Readiness: a health check's first pass, else READY=1 (ready = "notify"),
/// else min_uptime of running; told to the parent as (ready_atom, index, bool).
/// Failing liveness (`failures` in a row) restarts the run in place.
struct process_state {
  static inline const char* name = "process";

  std::shared_ptr<const app_spec> spec;
  uint32_t index = 0;
  std::string id;                        ///< "web.api#0"
  caf::actor parent;
  runtime_ptr rt;

  std::shared_ptr<os::spawn_plan> plan;  ///< built at the first start
  /// Standing order for the exit watcher to restart a stable run at once
  /// (see restarts_at_once); disarmed before any stop.
  std::shared_ptr<os::respawn_order> order;
  int out_fd = -1;
  int err_fd = -1;
  bool log_error_reported = false;

  proc_state state = proc_state::stopped;
  bool want_up = false;
  int32_t pid = 0;
  std::chrono::steady_clock::time_point started{};
  int64_t started_wall_ms = 0;
  uint64_t gen = 0;                      ///< tags timers; bumped to make them stale
  uint32_t restarts = 0;
  std::string last_exit;
  std::string reason;
  std::vector<caf::typed_response_promise<bool>> stop_waiters;
  std::string stop_why;                  ///< why the current stop was asked for ("" = plain)
  bool respawn_after_stop = false;       ///< an in-place restart: start again once stopped
  bool strict = false;                   ///< no standing respawn order: every restart asks the group

  // Readiness and liveness (process_health.cpp).
  uint16_t port = 0;                     ///< PORT of its runs; 0 = none
  uint64_t run = 0;                      ///< bumped per run and per stop: tags probes/timers
  bool ready = false;                    ///< this run passed its readiness signal
  std::optional<probe::health_state> health; ///< apps with a health check
  std::string health_detail;             ///< last check's outcome (status)
  std::string notify_key;                ///< registered sd_notify socket ("" = none)

  // Re-adoption after a daemon crash (process_adopt.cpp).
  uint64_t start_time = 0;               ///< /proc start time of `pid` (journal)
  int32_t start_time_pid = 0;            ///< the pid start_time belongs to
  bool adopted = false;                  ///< the current run was adopted (not our child)

  process_state() = default;
  process_state(const process_state&) = delete;
  process_state& operator=(const process_state&) = delete;
  ~process_state();
};

/// `strict`: never let the exit watcher restart on its own (the parent group
/// has a finite intensity and must count every restart before it happens).
/// `port`: the PORT its runs get (0 = none).
caf::behavior process_actor(caf::stateful_actor<process_state>* self,
                            std::shared_ptr<const app_spec> spec, uint32_t index,
                            caf::actor parent, runtime_ptr rt, bool strict, uint16_t port);

/// Graceful in-place restart of the current run (memory limit, cron, health).
void restart_in_place(caf::stateful_actor<process_state>* self, std::string why);

} // namespace arbor::detail
