#include "os/orphans.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace arbor::os {

namespace {

/// Reads a small /proc file whole; false if it cannot be read.
bool read_file(const char* path, std::string& out) {
  out.clear();
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  for (;;) {
    n = ::read(fd, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (!(n < 0 && errno == EINTR)) break;
  }
  ::close(fd);
  return n == 0;
}

/// Our children: each thread lists the ones it forked (and a subreaper's
/// adopted orphans go to one of them).
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return out;
  std::string text;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char path[sizeof e->d_name + 32];
    std::snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    if (!read_file(path, text)) continue;
    for (const char* p = text.data(); p < text.data() + text.size();) {
      char* end = nullptr;
      long v = std::strtol(p, &end, 10);
      if (end == p) { ++p; continue; }
      if (v > 0) out.push_back(static_cast<pid_t>(v));
      p = end;
    }
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
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::string text;
  if (!read_file(path, text)) return false;
  auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  // After "(comm)": state ppid pgrp ... starttime is field 22.
  // (strtol, not sscanf: scanf's machinery was ~100 KB of libc's pages kept
  // resident by the daemon for this one parse.)
  const char* p = text.c_str() + close + 1;
  while (*p == ' ') ++p;
  if (*p == '\0') return false;
  f.state = *p++;
  char* end = nullptr;
  std::strtol(p, &end, 10); // ppid
  if (end == p) return false;
  p = end;
  long pgrp = std::strtol(p, &end, 10);
  if (end == p) return false;
  f.pgrp = static_cast<pid_t>(pgrp);
  p = end;
  for (int field = 6; field <= 21; ++field) { // skip fields 6..21
    while (*p == ' ') ++p;
    while (*p != ' ' && *p != '\0') ++p;
  }
  f.start = std::strtoull(p, &end, 10);
  return end != p;
}

double uptime_seconds() {
  timespec ts{};
  if (::clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

bool become_subreaper() { return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

int reap_orphans(std::vector<pid_t> watched) {
  int reaped = 0;
  double now = -1;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  std::sort(watched.begin(), watched.end()); // a thousand apps: no linear find per child
  for (auto pid : children()) {
    if (std::binary_search(watched.begin(), watched.end(), pid)) continue;
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
