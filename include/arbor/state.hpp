#pragma once

// What is running: states and status snapshots. Plain data, no CAF.

#include <cstdint>
#include <string>
#include <vector>

namespace arbor {

/// State of one instance (s6-style: wanting it up is separate, see want_up).
enum class proc_state : uint8_t {
  stopped,  ///< no process; either not wanted or ended and staying down
  starting, ///< being spawned
  running,  ///< process alive
  ready,    ///< alive and passed its readiness check (health issue)
  stopping, ///< kill_signal sent, waiting for the exit (then SIGKILL)
  backoff,  ///< ended, restart scheduled after a delay
  failed,   ///< gave up: cannot execute, or max_restarts reached
};

const char* to_string(proc_state s);

/// Snapshot of one instance.
struct instance_status {
  std::string id;              ///< "web.api#0"
  uint32_t index = 0;
  proc_state state = proc_state::stopped;
  bool want_up = false;
  int32_t pid = 0;             ///< 0 when no process
  uint32_t restarts = 0;       ///< restarts done by policy since arbor started it
  uint32_t short_runs = 0;     ///< consecutive runs shorter than min_uptime (max_restarts counts these)
  int64_t next_try_ms = 0;     ///< backoff: time until the next try; 0 = none armed
  int64_t started_at_ms = 0;   ///< wall clock (ms since epoch) of the last spawn
  int64_t uptime_ms = 0;       ///< of the current run; 0 when no process
  int64_t memory_bytes = -1;   ///< RSS of the instance's process tree; -1 = not sampled
  /// 100 = a core; -1 = unknown. Over the time since the previous sample of
  /// this instance (a status samples it if that is older than 1 s); on its
  /// first sample, the average since the process started.
  double cpu_percent = -1;
  std::string last_exit;       ///< "exit(1)", "signal(SIGKILL)", "" if none
  std::string reason;          ///< why the state is what it is (failures, stay-down)
  uint16_t port = 0;           ///< PORT of the current run (app key `port`); 0 = none
  std::string health;          ///< last health check: "HTTP 200", "timed out after 3000ms", ""
  std::string cgroup;          ///< the run's cgroup ("" = a process group: no containment)
  int32_t processes = -1;      ///< processes in its cgroup; -1 = not contained
  int64_t uid = -1;            ///< real uid of the running process (/proc); -1 when none
  int64_t gid = -1;            ///< its real gid; -1 when none
};

/// Snapshot of an app or a group (the tree the CLI draws).
struct node_status {
  std::string name;            ///< dotted path; "" for the root
  bool is_group = false;
  std::string strategy;        ///< groups: "one_for_one", ...
  std::string state;           ///< groups/apps: "running", "stopped", "failed", ...
  std::string reason;          ///< groups: why it failed (intensity exceeded, ...)
  /// Groups with an intensity: the restart events within the last period
  /// now (the group gives up past its intensity).
  uint32_t intensity_used = 0;
  std::vector<instance_status> instances;  ///< apps
  std::vector<node_status> children;       ///< groups, in start order
};

} // namespace arbor
