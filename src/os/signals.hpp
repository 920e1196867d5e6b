#pragma once

// Process-wide signal setup for arbor itself (not for children: spawn_plan
// gives them a clean slate).

#include <csignal>

namespace arbor::os {

/// Blocks SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGCHLD in the calling thread
/// (call it first in main, before any thread exists, so every thread inherits
/// the mask) and ignores SIGPIPE. Returns the blocked set.
sigset_t block_control_signals();

/// A signalfd (non-blocking, close-on-exec) for `set`; -1 on error (errno set).
int open_signalfd(const sigset_t& set);

/// Reads one pending signal from a signalfd; returns its number, or 0 if none
/// is pending (EAGAIN), or -1 on error.
int read_signal(int fd);

} // namespace arbor::os
