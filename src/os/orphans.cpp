#include "os/orphans.hpp"

#include "os/proc_read.hpp"

#include <algorithm>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace arbor::os {

bool become_subreaper() { return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

int reap_orphans(std::vector<pid_t> watched) {
  int reaped = 0;
  double now = -1;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  std::sort(watched.begin(), watched.end()); // a thousand apps: no linear find per child
  for (auto pid : our_children()) {
    if (std::binary_search(watched.begin(), watched.end(), pid)) continue;
    proc_brief f;
    if (!read_brief(pid, f) || f.state != 'Z') continue;
    if (f.pgrp == pid) {
      if (now < 0) now = uptime_seconds();
      if (now - static_cast<double>(f.start) / static_cast<double>(ticks) < 60) continue;
    }
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == 0 && info.si_pid == pid)
      ++reaped;
  }
  return reaped;
}

} // namespace arbor::os
