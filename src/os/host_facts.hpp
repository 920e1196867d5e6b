#pragma once

// What `arbor doctor` reads from the host: the facts only, no verdict (the
// verdicts are pure, in cli/doctor_checks.hpp, so tests feed them any host).
// Probing writes nothing that stays: a cgroup probe is a directory made and
// removed at once.

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>

#include "os/cgroup_host.hpp"

namespace arbor::os {

struct host_facts {
  cgroup_host cgroups;
  /// mkdir + rmdir of <cgroups.v2_self>/arbor-doctor-<pid>: 0 if both
  /// worked (we may make cgroups: delegation or root), else the errno.
  int v2_child_errno = ENOENT;
  /// cgroup.kill in such a child (the root cgroup has none): Linux >= 5.14.
  bool v2_kill = false;
  /// We may write <v2_self>/cgroup.subtree_control: hand v2 controllers
  /// (memory, cpu, pids) down to the cgroups we make.
  bool v2_subtree_writable = false;
  /// The same probe in each v1 controller's dir: {controller, 0 or errno}.
  std::vector<std::pair<std::string, int>> v1_child_errno;

  int tcp_migrate_req = -1; ///< /proc/sys/net/ipv4/tcp_migrate_req; -1: no such file
  uint64_t nofile_soft = UINT64_MAX; ///< our RLIMIT_NOFILE (UINT64_MAX: unlimited)
  uint64_t nofile_hard = UINT64_MAX;
  bool zoneinfo = false; ///< /usr/share/zoneinfo is a directory

  std::string home;
  int home_errno = 0;         ///< of stat(home): 0 = it exists and `home_stat` holds it
  struct stat home_stat {};
  bool home_creatable = false; ///< when missing: its nearest existing parent is writable
  bool home_writable = true;   ///< when there: we may make files in it (lock, socket, logs)
  uint64_t home_free = UINT64_MAX; ///< bytes an unprivileged user may still write there
  uid_t euid = 0;

  bool systemd_pid1 = false;     ///< /run/systemd/system exists
  std::string systemd_analyze;   ///< its path in $PATH, "" if none
  std::string kernel;            ///< uname's release, "6.1.0-18-amd64"
  bool clone_arch = false;       ///< the fast spawn path is built for this CPU (x86_64, aarch64)
};

/// 0 if a directory `name` could be made in `parent` and removed again,
/// else the errno of the step that failed. `inside`, when given, is a file
/// whose presence in the new directory is reported through `found`.
int try_child_dir(const std::string& parent, const std::string& name, const char* inside = nullptr,
                  bool* found = nullptr);

/// Reads every fact for the home `home`. Never throws.
host_facts probe_host(const std::string& home);

} // namespace arbor::os
