#pragma once

// Starting arbor-daemon in the background, the one way both `arbor up` and
// arbor-keeper (replacing a daemon that died) do it.

#include <string>
#include <vector>

#include <spawn.h>
#include <sys/types.h>

namespace arbor::os {

/// Initialises `attr` for a child that starts with an empty signal mask and
/// every signal at its default disposition, plus `flags` (POSIX_SPAWN_SETSID).
/// The caller destroys it.
void init_clean_signals(posix_spawnattr_t& attr, short flags = 0);

/// Spawns `path` with `argv` in its own session, with an empty signal mask
/// and default dispositions, stdin /dev/null, stdout and stderr appended to
/// `log` (never through a symlink), and no descriptor of ours. `env`: the
/// environment ("K=V"), or null for ours. Returns the pid, or 0 with `error`
/// (an errno) set.
pid_t spawn_daemon(const std::string& path, const std::vector<std::string>& argv,
                   const std::vector<std::string>* env, const std::string& log, int& error);

} // namespace arbor::os
