#include "os/port_holders.hpp"

#include <cstdlib>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/proc_read.hpp"
#include "os/socket_table.hpp"

namespace arbor::os {

std::vector<socket_holder> socket_holders(const std::vector<uint64_t>& inodes) {
  std::vector<socket_holder> out;
  if (inodes.empty()) return out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  const uid_t me = ::geteuid();
  while (auto* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    // Only our own (root: everyone's) descriptors can be read; don't try the rest.
    struct stat st{};
    if (me != 0 && (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || st.st_uid != me)) continue;
    if (held_sockets(static_cast<pid_t>(pid), inodes).empty()) continue;
    proc_brief b;
    if (!read_brief(static_cast<pid_t>(pid), b) || b.state == 'Z' || b.state == 'X') continue;
    socket_holder h;
    h.pid = static_cast<pid_t>(pid);
    h.pgrp = b.pgrp;
    if (auto v = environ_value(h.pid, identity_key)) h.id = parse_identity(*v);
    out.push_back(std::move(h));
  }
  ::closedir(d);
  return out;
}

} // namespace arbor::os
