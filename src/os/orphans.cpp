#include "os/orphans.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace arbor::os {

namespace {

std::vector<pid_t> children() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string{"/proc/self/task/"} + e->d_name + "/children");
    pid_t p;
    while (in >> p) out.push_back(p);
  }
  ::closedir(d);
  return out;
}

struct stat_fields {
  char state = '?';
  pid_t pgrp = 0;
  unsigned long long start = 0;
};

bool read_stat(pid_t pid, stat_fields& f) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 1));
  std::string skip;
  pid_t ppid = 0;
  rest >> f.state >> ppid >> f.pgrp;
  for (int i = 6; i <= 21; ++i) rest >> skip; // fields 6..21
  rest >> f.start;                             // field 22: starttime in ticks
  return static_cast<bool>(rest);
}

double uptime_seconds() {
  std::ifstream in("/proc/uptime");
  double up = 0;
  in >> up;
  return up;
}

} // namespace

bool become_subreaper() { return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

int reap_orphans(const std::vector<pid_t>& watched) {
  int reaped = 0;
  double now = -1;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  for (auto pid : children()) {
    if (std::find(watched.begin(), watched.end(), pid) != watched.end()) continue;
    stat_fields f;
    if (!read_stat(pid, f) || f.state != 'Z') continue;
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
