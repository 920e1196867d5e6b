#pragma once

// Process-wide signal setup for arbor itself (not for children: spawn_plan
// gives them a clean slate).

#include <csignal>

namespace arbor::os {

/// Blocks SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGCHLD in the calling thread
/// (call it first in main, before any thread exists, so every thread inherits
/// the mask) and ignores SIGPIPE. Returns the set for the control signalfd:
/// SIGTERM, SIGINT, SIGHUP, SIGQUIT, but not SIGCHLD, which is blocked for
/// the exit watcher to read (it reaps adopted orphans when one arrives; a
/// second reader would steal some).
sigset_t block_control_signals();

/// True if every thread of this process blocks `sig` (read from
/// /proc/self/task/<tid>/status), so a process-directed `sig` stays pending
/// until a signalfd or sigwait takes it. False if that cannot be read.
bool blocked_in_every_thread(int sig);

/// A signalfd (non-blocking, close-on-exec) for `set`; -1 on error (errno set).
int open_signalfd(const sigset_t& set);

/// Reads one pending signal from a signalfd; returns its number, or 0 if none
/// is pending (EAGAIN), or -1 on error.
int read_signal(int fd);

} // namespace arbor::os
