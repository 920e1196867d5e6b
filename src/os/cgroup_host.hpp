#pragma once

// What this host's cgroups look like from here: where cgroup2 is mounted,
// which cgroup we are in on it, which controllers it offers us, and which
// controllers sit on v1 hierarchies instead (a hybrid mount). Read from
// /proc/self/mountinfo and /proc/self/cgroup; the parsers are pure so tests
// feed them any host's text. Used by containment (os/cgroup_tree.hpp) and
// `arbor doctor`.

#include <string>
#include <string_view>
#include <vector>

namespace arbor::os {

/// One mounted cgroup hierarchy.
struct cgroup_mount {
  std::string path;                     ///< mount point, e.g. /sys/fs/cgroup/memory
  bool v2 = false;                      ///< cgroup2 (the unified hierarchy)
  std::vector<std::string> controllers; ///< v1: from the mount options (memory, cpu, ...)
};

/// The cgroup2 and cgroup mounts in a mountinfo text, in order.
std::vector<cgroup_mount> parse_cgroup_mounts(std::string_view mountinfo);

/// One line of /proc/<pid>/cgroup: "4:memory:/a/b" or "0::/a".
struct cgroup_membership {
  std::vector<std::string> controllers; ///< empty for the v2 line ("0::")
  std::string path;                     ///< the cgroup, relative to its hierarchy's root
  bool v2 = false;
};
std::vector<cgroup_membership> parse_proc_cgroup(std::string_view text);

/// A controller arbor limits with (memory, cpu, pids) and where it is.
struct cgroup_controller {
  std::string name;
  bool v2 = false;   ///< offered in our v2 cgroup's cgroup.controllers
  std::string dir;   ///< v1: our cgroup in that hierarchy (absolute); "" when v2 or absent
};

struct cgroup_host {
  std::string v2_mount;  ///< "" = no cgroup2 mounted
  std::string v2_self;   ///< our v2 cgroup, absolute path ("" when none)
  std::vector<cgroup_controller> controllers; ///< memory, cpu, pids: the ones found
  /// Whether `name` is usable (on v2 or v1), and the entry.
  const cgroup_controller* find(std::string_view name) const;
};

/// This process's view (reads /proc/self/mountinfo, /proc/self/cgroup and
/// the v2 cgroup.controllers). Never throws; a host without cgroups gives
/// an empty v2_mount.
cgroup_host probe_cgroup_host();

} // namespace arbor::os
