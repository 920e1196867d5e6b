#pragma once

// Starting arbor-daemon in the background, the one way both `arbor up` and
// arbor-keeper (replacing a daemon that died) do it.

#include <string>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// Spawns `path` with `argv` in its own session, with an empty signal mask
/// and default dispositions, stdin /dev/null, stdout and stderr appended to
/// `log` (never through a symlink), and no descriptor of ours. `env`: the
/// environment ("K=V"), or null for ours. Returns the pid, or 0 with `error`
/// (an errno) set.
pid_t spawn_daemon(const std::string& path, const std::vector<std::string>& argv,
                   const std::vector<std::string>* env, const std::string& log, int& error);

} // namespace arbor::os
