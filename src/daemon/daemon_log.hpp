#pragma once

// daemon.log rotates like an app's log: the daemon's own lines go through a
// sink that, before the file would pass max_size, shifts daemon.log ->
// daemon.log.1 -> ... (max_files files in all) and points descriptors 1 and 2
// at a fresh file, opened with O_NOFOLLOW. Crash reports and stray writes to
// stderr follow, since they go to descriptor 2 too.

#include <cstdint>
#include <string>

namespace arbor::detail {

/// Installs the rotating logger when descriptor 2 is the file at `path` (as
/// `arbor up` starts the daemon); otherwise (a terminal, journald) changes
/// nothing and returns false. The defaults are the app log defaults.
bool rotate_daemon_log(const std::string& path, uint64_t max_size = 10ull << 20,
                       uint32_t max_files = 5);

} // namespace arbor::detail
