#pragma once

// Which processes exist is the kernel's word, not a record written after the
// fact: every spawn carries its identity in its environment (ARBOR_ID), where
// it can be read back from /proc/<pid>/environ for as long as the process
// (or anything it started and did not scrub its environment for) lives.
//
//   ARBOR_ID=<generation:16 hex>:<spec hash:16 hex>:<app>#<index>@<home>
//
// The generation is unique per spawn and grows across daemons; the spec hash
// names the app's configuration the run was started with; the home names the
// arbor (one per ARBOR_HOME) that owns it. App names hold no '#' or '@'.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

inline constexpr std::string_view identity_key = "ARBOR_ID";

struct spawn_identity {
  uint64_t generation = 0;
  uint64_t spec_hash = 0;
  std::string app;
  uint32_t index = 0;
  std::string home;

  bool operator==(const spawn_identity& o) const {
    return generation == o.generation && spec_hash == o.spec_hash && app == o.app
           && index == o.index && home == o.home;
  }
};

/// "ARBOR_ID=..." for `id`.
std::string identity_entry(const spawn_identity& id);
/// Offset of the generation's 16 hex digits in an identity_entry() string.
inline constexpr size_t identity_generation_at = identity_key.size() + 1;
/// Writes `generation` as 16 hex digits at `at` (no terminator).
void write_generation(char* at, uint64_t generation);

/// Parses the value of ARBOR_ID (what follows "ARBOR_ID="); nullopt if malformed.
std::optional<spawn_identity> parse_identity(std::string_view value);

/// The value of `key` in /proc/<pid>/environ, nullopt if the process has no
/// such variable or its environment cannot be read (gone, a zombie, another
/// user's). The environment as the process was started (exec), or as it
/// rewrote it in place.
std::optional<std::string> environ_value(pid_t pid, std::string_view key);

/// A live process that carries an identity of one home.
struct marked_process {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
  uint64_t start = 0;     ///< /proc start time (clock ticks since boot)
  spawn_identity id;
};

/// Every live (not zombie) process of `home`, by a walk of /proc. Costs an
/// environ read per process of ours: for startup and shutdown, not the
/// restart path.
std::vector<marked_process> scan_home(const std::string& home);

/// Those of our children (as a subreaper: also the orphans our apps left)
/// that carry `generation` of `home`, except `skip` (sorted pids).
std::vector<marked_process> children_of_generation(const std::string& home, uint64_t generation,
                                                   const std::vector<pid_t>& skip);

} // namespace arbor::os
