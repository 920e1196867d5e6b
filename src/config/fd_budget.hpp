#pragma once

// What a tree costs the daemon in file descriptors, so that a tree its
// RLIMIT_NOFILE cannot hold is refused before anything starts, not found out
// by spawns failing with EMFILE. Pure: no OS call; the caller passes the
// limit (check: the shell's hard limit, which a daemon started from it
// raises its soft limit to; apply and scale: the running daemon's own).
//
// The figures are measured (`ls /proc/<daemon>/fd` at 1, 100 and 300
// instances of `sleep`): 30 descriptors at start, then 5 per instance.

#include <cstdint>
#include <string>

#include "arbor/spec.hpp"

namespace arbor::config {

/// Each instance, always: its pidfd (the exit watcher) and both ends of its
/// stdout and stderr pipes (the read ends in the log pump, the write ends
/// kept by the process actor for the next run).
inline constexpr uint64_t fds_per_instance = 5;
/// Each app: its out and err log files.
inline constexpr uint64_t fds_per_app = 2;
/// The daemon's own, whatever the tree: stdio, the spawner's slots (3, and
/// 16 for listening sockets: os::max_listen_fds), epoll and event
/// descriptors of its threads, the signalfd, the home lock, daemon.log, the
/// journal, the keeper's socket, the control and metrics listeners (46
/// measured, rounded up). Each `listen` address adds one (fd_budget.cpp).
inline constexpr uint64_t daemon_fds = 56;
/// Kept free for work in progress: control connections, a spawn's
/// temporary descriptors, health checks. The control server serves at most
/// a few connections once fewer than this many are left.
inline constexpr uint64_t fd_reserve = 64;

struct fd_need {
  uint64_t instances = 0;
  uint64_t for_instances = 0; ///< what the instances hold together
  uint64_t besides = 0;       ///< per app, the daemon's own, the reserve
  uint64_t total() const { return for_instances + besides; }
};

/// What one instance of `app` holds: fds_per_instance, plus its notify
/// socket (ready = "notify") and its health check's socket or pidfd while
/// the check runs.
uint64_t fds_of_instance(const app_spec& app);

/// What running `root` costs the daemon, at most.
fd_need descriptors_needed(const group_spec& root);

/// Empty if `need` fits within `limit`; else the refusal, naming both
/// numbers and the fix: "this tree needs ~50,122 descriptors (10,000
/// instances × 5 + 122 besides), <limit_name> is 20,000: raise it ...".
std::string fd_refusal(const fd_need& need, uint64_t limit, const std::string& limit_name);

} // namespace arbor::config
