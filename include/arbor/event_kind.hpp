#pragma once

// What an event says happened, and why an instance was restarted, as enums.
// Their text (to_string) is what logs, the protocol's JSON and the CLI show.
// Plain data, no CAF.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arbor {

/// The kind of an `event` (see messages.hpp). Past tense: things that happened.
enum class event_kind : uint8_t {
  child_started,       ///< an instance's process was spawned
  child_exited,        ///< its process ended unasked (reason: "exit(1)", "signal(SIGKILL)")
  restarting,          ///< it is started again (`event::cause` says why)
  backoff,             ///< it restarts after a delay (`event::cause` says why)
  gave_up,             ///< an instance or group failed for good
  spawn_failed,        ///< the command cannot run
  spawn_retry,         ///< a spawn failed for want of processes or memory
  stopping,            ///< kill_signal sent to the process group
  stopped,             ///< its process is gone as asked
  killed,              ///< kill_timeout passed: SIGKILL
  stays_down,          ///< the restart policy keeps it down
  ready,               ///< it passed its readiness signal
  unhealthy,           ///< failed liveness checks (a `restarting` follows)
  adopted,             ///< a run a previous daemon left was taken over
  log_error,           ///< its output cannot be captured
  cron,                ///< an app's cron_restart fired
  reloading,           ///< a rolling reload began
  reloaded,            ///< a rolling reload finished
  reload_aborted,      ///< a rolling reload stopped half-way
  restarting_siblings, ///< a group restarts children for one that failed
  waiting,             ///< an app waits for its depends_on
  dependencies_ready,  ///< what it waited for is ready: it starts
  leftovers,           ///< what an ended run left outside its process group is stopped
  keeper_lost,         ///< the daemon's arbor-keeper died (offender "arbor-keeper"): a new one starts
  keeper_started,      ///< a new arbor-keeper holds every output pipe again
  daemon_replaced,     ///< this daemon took over from one that died (offender "arbor-daemon")
  file_changed,        ///< a file its app watches changed (reason names it): a restart follows
};
inline constexpr int event_kind_count = 27;

/// "child_started", "restarting", ...: the `event` field of the protocol's JSON.
const char* to_string(event_kind k);
/// The kind named `text` (exactly as to_string writes it); nullopt if none.
std::optional<event_kind> parse_event_kind(std::string_view text);

/// Why an instance is (re)started; `none` for what is not a restart.
/// `/metrics` counts restarts by it (arbor_instance_restarts_total's
/// `reason` label), every cause but none and scaled.
enum class restart_cause : uint8_t {
  none,         ///< not a restart (a plain start, a stop, an event without cause)
  crash,        ///< its run ended on its own: exit, signal, crash loop
  memory_limit, ///< its memory went over max_memory
  cron,         ///< its app's cron_restart fired
  sibling,      ///< a group restarts it for a sibling (one_for_all, rest_for_one)
  escalation,   ///< a group restarts it for a child that gave up
  health,       ///< it failed its liveness checks
  manual,       ///< an operator or embedder asked (`arbor restart`, a `why` from outside)
  other,        ///< anything else (a spawn retried for want of processes or memory)
  scaled,       ///< a new instance's first start after a scale up (not a restart)
  watch,        ///< a file its app watches changed
  oom,          ///< the kernel's OOM killer ended its run (over memory_max)
};
inline constexpr int restart_cause_count = 12;

/// "crash", "memory_limit", ..., "none".
const char* to_string(restart_cause c);

/// The why of a command (start, stop, restart, reload): its cause, which
/// travels to the instance's events, and its text for people.
struct reason {
  restart_cause cause = restart_cause::none;
  std::string text; ///< "manual", "sibling: web.db#0 exit(1) (one_for_all)", ...
};

/// A command from outside the tree: cause `manual`, shown as `text`.
inline reason manual(std::string text = "manual") {
  return {restart_cause::manual, std::move(text)};
}

} // namespace arbor
