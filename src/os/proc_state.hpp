#pragma once

// Whether a process is stopped by a signal: its state in /proc/<pid>/stat.

#include <sys/types.h>

namespace arbor::os {

/// True if `pid` is stopped by a signal (SIGSTOP, SIGTSTP, ...) or by a
/// tracer: state 'T' or 't' in /proc/<pid>/stat. It then runs nothing until
/// SIGCONT, whatever its readiness said. False if it cannot be read.
bool stopped_by_signal(pid_t pid);

/// How `reason` in an instance's status starts while stopped_by_signal() (the
/// CLI shows such a reason whatever the state).
inline constexpr const char* stopped_by_signal_reason = "stopped by a signal";

} // namespace arbor::os
