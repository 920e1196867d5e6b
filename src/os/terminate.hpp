#pragma once

// Ending processes that are not watched children: the runs a dead daemon
// left that the config no longer has, what an ended run left outside its
// process group, and whatever of a home is still alive at its clean stop.
// One way for all of them: a signal now, SIGKILL after a grace.

#include <chrono>
#include <cstdint>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// A process named so that a reused pid is never hit: pid + /proc start time.
struct proc_ref {
  pid_t pid = 0;
  uint64_t start = 0;
};

/// True if `p` is alive (not a zombie) and still the process it names.
bool alive(const proc_ref& p);

/// Sends `sig` to each process and to the process group it leads, if any;
/// SIGKILL (process and group) to those still alive after `grace`. With
/// `wait`, returns once all are gone (or SIGKILLed and given another grace);
/// otherwise a detached thread waits. Never throws.
void terminate(std::vector<proc_ref> procs, int sig, std::chrono::milliseconds grace, bool wait);

} // namespace arbor::os
