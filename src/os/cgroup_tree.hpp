#pragma once

// Containment: every run of every instance in a cgroup of its own, so that
// a stop reaches whatever the run started (a setsid() double fork, a fork
// bomb) and "gone" means the kernel's word (cgroup.events: populated 0).
//
//   <root>/.daemon            the daemon itself (and the keeper it starts)
//   <root>/<app>/<i>@<gen>    a run's cgroup, named after the run that made it
//                             (ARBOR_ID's generation); a dotted app name nests:
//                             web.api is web/api
//
// <root> is <our v2 cgroup>/arbor-<hash of the home>, written to
// <home>/cgroup so that a daemon started again from elsewhere (a SIGKILL,
// then `arbor up` from another shell) finds the runs a dead one left. A run
// has its own cgroup, not its instance: a reload's replacement runs beside
// the run it replaces, and a crashed run's leftovers are stopped while its
// successor already runs. A run that ended with nothing left in its cgroup
// hands it to the instance's next run: the kernel's first entry into a fresh
// cgroup costs ~0.2 ms (its css_set), a reused one nothing, and v2 cannot
// rename a cgroup.
//
// A process joins its run's cgroup before its program runs: the v2 one at
// the clone itself (clone3 CLONE_INTO_CGROUP), the v1 ones of its limits (a
// hybrid host's memory/cpu/pids) by the child writing itself into them
// before exec (os/spawn_clone.hpp). Where no cgroup can be made (no cgroup2,
// no delegation, not root) arbor uses process groups, as it says once; the
// limits still apply where their controller is (cgroup_limits.hpp), and a
// limit that cannot be applied fails the start.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

#include "os/cgroup_host.hpp"
#include "os/cgroup_limits.hpp"

namespace arbor::os {

/// What ARBOR_CONTAINMENT asks: auto (cgroups where possible), cgroup
/// (required: the daemon refuses to start without), process-group (never).
enum class containment_wish : uint8_t { automatic, cgroup, process_group };
/// Parses ARBOR_CONTAINMENT ("" = auto); false for another value.
bool parse_containment(const char* value, containment_wish& out);

/// One run's cgroups.
struct run_cgroup {
  std::string dir;                 ///< v2; "" = none (process-group mode)
  std::vector<std::string> v1;     ///< v1 dirs of its limits' controllers
  /// cgroup.procs files the child writes itself into before exec (the v1
  /// ones; the v2 one too where clone3 cannot place it).
  std::vector<std::string> join;
  std::vector<const char*> join_ptrs; ///< join's, null-terminated (for the child)
  bool empty() const { return dir.empty() && v1.empty(); }
};

/// A run cgroup found under the root (re-adoption).
struct run_listing {
  std::string app;
  uint32_t index = 0;
  uint64_t generation = 0;
  std::string dir;
};

class cgroup_tree {
public:
  /// Containment for `home` as `wish` says. Returns null for process-group
  /// mode, with `note` saying why (empty when asked for). Throws
  /// std::runtime_error when `wish` is cgroup and none can be made.
  static std::unique_ptr<cgroup_tree> open(const std::string& home, containment_wish wish,
                                           std::string& note);
  ~cgroup_tree();

  const std::string& root() const { return root_; }

  /// Makes run `gen` of `app`#`index`'s cgroups with `limits` applied.
  /// "" or why not (a controller missing, a write refused).
  std::string make_run(const std::string& app, uint32_t index, uint64_t gen,
                       const cgroup_limits& limits, run_cgroup& out);
  /// The run cgroup `pid` is in, if it is one of ours (a run a dead daemon
  /// left: the v2 one, and its v1 ones where `limits` needs them).
  bool find_run_of(pid_t pid, const cgroup_limits& limits, run_cgroup& out) const;
  /// Readies an ended, empty run cgroup without v1 ones for the instance's
  /// next run (what the child joins by itself, if anything).
  void rejoin(run_cgroup& run) const;
  /// Every run cgroup under the root.
  std::vector<run_listing> list_runs() const;

  /// Processes of the run (v2's cgroup.procs, else the first v1 one's).
  std::vector<pid_t> procs(const run_cgroup& run) const;
  /// `sig` to each of them; how many were signalled.
  size_t signal(const run_cgroup& run, int sig) const;
  /// SIGKILL to all of them, forks in flight included (cgroup.kill).
  void kill(const run_cgroup& run) const;
  bool populated(const run_cgroup& run) const;
  /// Memory charged to the run (memory.current, v1 memory.usage_in_bytes);
  /// -1 where no memory controller counts it.
  int64_t memory_bytes(const run_cgroup& run) const;
  /// OOM kills in the run so far (memory.events / memory.oom_control).
  uint64_t oom_kills(const run_cgroup& run) const;

  /// The run is over: once its cgroups are empty they are removed and
  /// `when_empty` runs (on the drain thread). What is left in them gets
  /// SIGKILL (cgroup.kill) at `kill_at`.
  void retire(run_cgroup run, std::chrono::steady_clock::time_point kill_at,
              std::function<void()> when_empty = {});

  /// At a clean stop: removes the empty run cgroups, the apps', the
  /// daemon's leaf and the root (the daemon goes back where it came from).
  void close_clean();

  struct drain; ///< the retire thread (cgroup_drain.cpp)

private:
  cgroup_tree();
  void start_drain();
  /// Removes what daemons of other homes left in our cgroup and the v1
  /// ones that hold no process (killed daemons cannot clean up after
  /// themselves). Only trees a minute old: one being made is left alone.
  void sweep_stale() const;
  /// A dotted name as nested directories: no segment holds a '.', so none
  /// can be taken for a cgroup's own files (cgroup.procs, memory.max).
  static std::string nested(const std::string& app);
  std::string app_dir(const std::string& app) const { return root_ + "/" + nested(app); }
  /// The directory of each level of `app` under `base`: base/web, base/web/api.
  static std::vector<std::string> app_levels(const std::string& base, const std::string& app);
  /// mkdir of each level of `app` under `base`; "" or why not.
  static std::string make_app_dirs(const std::string& base, const std::string& app);
  std::string ensure_v1(const std::string& controller, const std::string& app,
                        const std::string& leaf, std::string& dir);
  std::string enable_v2(const std::vector<std::string>& controllers, const std::string& app);

  cgroup_host host_;
  std::string root_;        ///< v2
  std::string origin_;      ///< the v2 cgroup the daemon came from
  std::string home_hash_;   ///< the root's name: arbor-<hash>
  bool clone_places_ = false; ///< clone3 puts the child in its v2 cgroup
  std::mutex m_;
  std::vector<std::string> enabled_; ///< "app/controller" enabled on v2 (guarded by m_)
  std::unique_ptr<drain> drain_;
};

} // namespace arbor::os
