#pragma once

// Internal to src/os: the fast way spawn_plan::spawn starts a process.
//
// posix_spawn copies the caller's whole descriptor table into the child
// (clone without CLONE_FILES), and the child then closes it again
// (closefrom). A daemon supervising 1000 instances holds ~5000 descriptors
// (both ends of two pipes and a pidfd per instance): measured on a 2-core VM,
// a posix_spawn took 560 us median there against 98 us with 5 descriptors,
// and the exit watcher respawns serially, so a mass crash of 1000 paid
// ~0.5 s for it.
//
// Here the child shares the table (CLONE_VM | CLONE_VFORK | CLONE_FILES, as
// posix_spawn's vfork-style clone, plus CLONE_FILES) and its first act is
// close_range(top + 1, ~0U, CLOSE_RANGE_UNSHARE): the kernel gives it a
// private table holding only descriptors 0..top. The descriptors it needs
// are put at three low numbers reserved once at startup (the "slots", 3, 4
// and 5 in practice: reserved by a static initializer, before main opens
// anything), under a lock, just before the clone; afterwards the slots point
// at /dev/null again, so no pipe is kept open by them. Measured as above:
// 81 us median with 5000 descriptors open.
//
// The child runs on the parent's memory with the parent's thread's TLS until
// it execs: it makes raw system calls only, on a stack of its own, with
// every signal blocked (the parent blocks all of them, glibc's two internal
// ones too, around the clone) until it has reset every disposition to
// SIG_DFL; the mask it execs with is empty.
//
// Listening sockets (an app's `listen`) go the way of stdout and stderr:
// dup'd into slots of their own reserved at startup (so still 0..top), and
// the child moves them to 3, 4, ... and writes its own pid into LISTEN_PID.
//
// An app's identity and limits (credentials.hpp) are applied last, right
// before exec, from a child_credentials the parent prepared: setrlimit,
// setpriority, a write to /proc/self/oom_score_adj, umask, then setgroups,
// setgid, setuid, each a raw system call of this one thread (glibc's setuid
// would signal the parent's other threads, which share our memory).

#include <cstddef>
#include <cstdint>

#include <sys/types.h>

#include "os/credentials.hpp"
#include "os/listen_address.hpp"

namespace arbor::os::detail {

/// Room for a pid's digits in a LISTEN_PID entry the child writes itself.
constexpr size_t listen_pid_digits = 20;

struct clone_request {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr; ///< nullptr: inherit ours
  int stdout_fd = -1;        ///< -1: /dev/null
  int stderr_fd = -1;
  /// Listening sockets the child gets at 3, 4, ... (at most os::max_listen_fds).
  const int* listen_fds = nullptr;
  size_t listen_count = 0;
  /// The value of the envp's LISTEN_PID entry (listen_pid_digits + 1 bytes):
  /// the child writes its own pid there, NUL-terminated, before exec.
  char* listen_pid_at = nullptr;
  /// A cgroup v2 directory the child starts in (clone3 CLONE_INTO_CGROUP);
  /// -1: ours.
  int cgroup_fd = -1;
  /// cgroup.procs files the child writes itself into before exec
  /// (null-terminated; null: none).
  const char* const* join = nullptr;
  /// Applied right before exec; nullptr: none.
  const child_credentials* creds = nullptr;
};

/// Which step failed.
enum class clone_step : uint8_t {
  none,         ///< started
  unavailable,  ///< no fast path (here, or for this spawn: e.g. kernel < 5.9, a seccomp
                ///< filter, an unsupported CPU, no slots): use posix_spawn
  setup,        ///< in the parent: a bad stdout/stderr descriptor, or clone() itself failed
  files,        ///< in the child: its descriptor table or stdio
  chdir,
  pgroup,
  cgroup,       ///< joining a cgroup (clone3's placement, or a cgroup.procs write)
  credentials,  ///< a step of child_credentials: clone_result::cred_step says which
  exec,
};

struct clone_result {
  pid_t pid = -1;
  int error = 0;   ///< errno of the failed step
  clone_step step = clone_step::none;
  credential_step cred_step = credential_step::none;
  size_t cred_index = 0; ///< the limit, for credential_step::rlimit
};

/// Whether clone_spawn can start a child in a cgroup (clone3 with
/// CLONE_INTO_CGROUP, x86_64 here): where not, the child joins by a write.
bool clone_into_cgroup_supported();

/// Starts `r.path` as posix_spawn with POSIX_SPAWN_SETPGROUP (pgid 0),
/// SETSIGMASK (empty), SETSIGDEF (every signal), stdin /dev/null, stdout and
/// stderr from the given descriptors, chdir, and every descriptor >= 3
/// closed would. A failed child is reaped before this returns. Thread-safe
/// (spawns are serialised by one lock). Never throws.
clone_result clone_spawn(const clone_request& r);

} // namespace arbor::os::detail
