#include "arbor/event_kind.hpp"

namespace arbor {

const char* to_string(event_kind k) {
  switch (k) {
    case event_kind::child_started: return "child_started";
    case event_kind::child_exited: return "child_exited";
    case event_kind::restarting: return "restarting";
    case event_kind::backoff: return "backoff";
    case event_kind::gave_up: return "gave_up";
    case event_kind::spawn_failed: return "spawn_failed";
    case event_kind::spawn_retry: return "spawn_retry";
    case event_kind::stopping: return "stopping";
    case event_kind::stopped: return "stopped";
    case event_kind::killed: return "killed";
    case event_kind::stays_down: return "stays_down";
    case event_kind::ready: return "ready";
    case event_kind::unhealthy: return "unhealthy";
    case event_kind::adopted: return "adopted";
    case event_kind::log_error: return "log_error";
    case event_kind::cron: return "cron";
    case event_kind::file_changed: return "file_changed";
    case event_kind::reloading: return "reloading";
    case event_kind::reloaded: return "reloaded";
    case event_kind::reload_aborted: return "reload_aborted";
    case event_kind::restarting_siblings: return "restarting_siblings";
    case event_kind::waiting: return "waiting";
    case event_kind::dependencies_ready: return "dependencies_ready";
    case event_kind::leftovers: return "leftovers";
    case event_kind::keeper_lost: return "keeper_lost";
    case event_kind::keeper_started: return "keeper_started";
    case event_kind::daemon_replaced: return "daemon_replaced";
  }
  return "unknown";
}

std::optional<event_kind> parse_event_kind(std::string_view text) {
  for (int i = 0; i < event_kind_count; ++i) {
    auto k = static_cast<event_kind>(i);
    if (text == to_string(k)) return k;
  }
  return std::nullopt;
}

const char* to_string(restart_cause c) {
  switch (c) {
    case restart_cause::none: return "none";
    case restart_cause::crash: return "crash";
    case restart_cause::memory_limit: return "memory_limit";
    case restart_cause::cron: return "cron";
    case restart_cause::watch: return "watch";
    case restart_cause::sibling: return "sibling";
    case restart_cause::escalation: return "escalation";
    case restart_cause::health: return "health";
    case restart_cause::manual: return "manual";
    case restart_cause::other: return "other";
    case restart_cause::scaled: return "scaled";
    case restart_cause::oom: return "oom";
  }
  return "none";
}

} // namespace arbor
