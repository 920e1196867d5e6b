#include "os/proc_read.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::os {

bool read_small_file(const char* path, std::string& out) {
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

bool read_real_ids(pid_t pid, uid_t& uid, gid_t& gid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  std::string text;
  if (!read_small_file(path, text)) return false;
  // "Uid:\t<real>\t<effective>\t<saved>\t<fs>", the same for "Gid:".
  auto field = [&text](const char* key, unsigned long& out) {
    auto at = text.find(key);
    if (at == std::string::npos) return false;
    const char* p = text.c_str() + at + std::strlen(key);
    char* end = nullptr;
    out = std::strtoul(p, &end, 10);
    return end != p;
  };
  unsigned long u = 0, g = 0;
  if (!field("\nUid:", u) || !field("\nGid:", g)) return false;
  uid = static_cast<uid_t>(u);
  gid = static_cast<gid_t>(g);
  return true;
}

bool read_brief(pid_t pid, proc_brief& f) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::string text;
  if (!read_small_file(path, text)) return false;
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
  long ppid = std::strtol(p, &end, 10);
  if (end == p) return false;
  f.ppid = static_cast<pid_t>(ppid);
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

void for_each_own_process(const std::function<void(pid_t)>& f) {
  DIR* d = ::opendir("/proc");
  if (!d) return;
  const uid_t me = ::geteuid();
  while (auto* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    // Only our own (root: everyone's) files can be read; don't try the rest.
    struct stat st{};
    if (me != 0 && (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || st.st_uid != me)) continue;
    f(static_cast<pid_t>(pid));
  }
  ::closedir(d);
}

std::vector<pid_t> our_children() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return out;
  std::string text;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char path[sizeof e->d_name + 32];
    std::snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    if (!read_small_file(path, text)) continue;
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

double uptime_seconds() {
  timespec ts{};
  if (::clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace arbor::os
