#pragma once

// Giving freed heap memory back to the kernel.
//
// glibc keeps what a burst of work freed (a `status` of 1000 instances, a
// config load, a mass restart) inside its arenas: free, but still resident.
// For a daemon that stays up for months and spends nearly all of that time
// idle, that retained memory is most of its anonymous RSS (at 100 instances:
// ~1 MB in use, ~2 MB resident before a trim). The control actor calls this
// once things are quiet (see control_actor.cpp).

#include <cstdint>

namespace arbor::os {

/// Returns free pages of every malloc arena to the kernel (glibc's
/// malloc_trim(0)). True if anything was released. A no-op elsewhere.
bool release_free_heap();

/// One malloc arena for the whole process (glibc: M_ARENA_MAX 1), to call
/// before the first thread. glibc gives every thread that allocates its own
/// arena; the daemon's ~10 threads are idle nearly always, and the two CAF
/// workers' arenas each kept pages half used by the other's frees: ~0.2 MB
/// at 100 instances. Small allocations stay thread-local (tcache), so the
/// shared arena's lock is rarely taken. A no-op elsewhere.
void use_one_arena();

} // namespace arbor::os
