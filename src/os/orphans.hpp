#pragma once

// Orphans: as a child subreaper, processes our apps leave behind (a
// double-forked daemon whose parent exited) are reparented to us.

#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// Makes this process a child subreaper. Returns false (errno set) on failure.
bool become_subreaper();

/// Reaps the zombies among our children that nobody else waits for: every
/// child not in `watched` (the exit watcher's own) that has exited, except a
/// fresh process-group leader (< 60 s old), which may be a health check's
/// shell whose owner is about to wait for it. `watched` in any order (it is
/// sorted here: a lookup per child is O(log n)). Returns how many were reaped.
int reap_orphans(std::vector<pid_t> watched);

} // namespace arbor::os
