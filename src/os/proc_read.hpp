#pragma once

// Small reads of /proc shared by the orphan reaper, the spawn identity scan
// and the search for a socket's holders: one file read whole, the few fields
// of /proc/<pid>/stat they need, our user's processes and our own children.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// Reads a small file whole (no size limit); false if it cannot be opened or read.
bool read_small_file(const char* path, std::string& out);

/// Fields of /proc/<pid>/stat, counted after the last ')' (the command name
/// may hold spaces and parentheses).
struct proc_brief {
  char state = '?';        ///< 'R', 'S', 'Z', 'T'...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  uint64_t start = 0;      ///< field 22: clock ticks since boot
};

/// false if there is no such process (or its stat cannot be parsed).
bool read_brief(pid_t pid, proc_brief& out);

/// The real uid and gid of a process (/proc/<pid>/status); false if there
/// is no such process.
bool read_real_ids(pid_t pid, uid_t& uid, gid_t& gid);

/// Calls `f` with every process whose /proc files we may read: our user's
/// (root: everyone's), ourselves included. Others are not tried.
void for_each_own_process(const std::function<void(pid_t)>& f);

/// Our children: each thread lists the ones it forked (and a subreaper's
/// adopted orphans go to one of them).
std::vector<pid_t> our_children();

/// Seconds since boot (CLOCK_BOOTTIME), the clock of proc_brief::start.
double uptime_seconds();

} // namespace arbor::os
