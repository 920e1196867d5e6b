#pragma once

// Internal to src/os: the few file operations on cgroupfs the containment
// needs, each returning "" or the errno's text.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace arbor::os::cg {

/// mkdir (an existing directory is fine).
std::string make_dir(const std::string& path);
bool exists(const std::string& path);
/// One write(2) of `value` (a cgroup file takes a value per write).
std::string write(const std::string& file, const std::string& value);
/// An ordinary file, created or replaced.
std::string write_file(const std::string& file, const std::string& text);
/// The names of the directories in `dir`.
std::vector<std::string> subdirs(const std::string& dir);
/// The pids in `dir`/cgroup.procs.
std::vector<pid_t> procs(const std::string& dir);
/// The number after `key` in a "key value" per line file (cgroup.events,
/// memory.events, memory.oom_control).
std::optional<uint64_t> key_value(const std::string& file, const std::string& key);

} // namespace arbor::os::cg
