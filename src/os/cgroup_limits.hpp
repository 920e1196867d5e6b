#pragma once

// An app's hard limits as cgroup files: which controller each needs and what
// is written where, on the unified hierarchy (v2) or on a v1 one (a hybrid
// host) with the same meaning. Pure: tested alone.

#include <cstdint>
#include <string>
#include <vector>

namespace arbor::os {

/// The limits of one run; 0 = none.
struct cgroup_limits {
  uint64_t memory_max = 0;    ///< bytes
  uint64_t cpu_quota_us = 0;  ///< per cpu_period_us: "50%" = 50000, "1.5" = 150000
  uint32_t cpu_weight = 0;    ///< 1..10000, as v2's cpu.weight (100 = the default share)
  uint64_t pids_max = 0;
  bool any() const { return memory_max || cpu_quota_us || cpu_weight || pids_max; }
  bool operator==(const cgroup_limits& o) const {
    return memory_max == o.memory_max && cpu_quota_us == o.cpu_quota_us
           && cpu_weight == o.cpu_weight && pids_max == o.pids_max;
  }
};

inline constexpr uint64_t cpu_period_us = 100000;

/// One file to write in a run's cgroup of `controller`.
struct limit_write {
  std::string controller; ///< memory, cpu, pids
  std::string file;       ///< e.g. memory.max (v2), memory.limit_in_bytes (v1)
  std::string value;
  bool optional = false;  ///< a file the kernel may not have (swap accounting off)
};

/// The writes `l` needs, for a controller on v2 (`v2(controller)` true) or v1.
template <class OnV2>
std::vector<limit_write> limit_writes(const cgroup_limits& l, OnV2 v2);

/// The controllers `l` needs, in the order memory, cpu, pids.
std::vector<std::string> controllers_needed(const cgroup_limits& l);

/// v2 cpu.weight (1..10000, default 100) as v1 cpu.shares (default 1024).
uint64_t weight_to_shares(uint32_t weight);

template <class OnV2>
std::vector<limit_write> limit_writes(const cgroup_limits& l, OnV2 v2) {
  std::vector<limit_write> out;
  if (l.memory_max) {
    if (v2("memory")) {
      out.push_back({"memory", "memory.max", std::to_string(l.memory_max)});
      out.push_back({"memory", "memory.swap.max", "0", true});
      out.push_back({"memory", "memory.oom.group", "1"}); // an OOM takes the whole run
    } else {
      out.push_back({"memory", "memory.limit_in_bytes", std::to_string(l.memory_max)});
      // RAM and swap together: over the limit is an OOM kill, not swapping.
      out.push_back({"memory", "memory.memsw.limit_in_bytes", std::to_string(l.memory_max), true});
    }
  }
  if (l.cpu_quota_us) {
    if (v2("cpu"))
      out.push_back({"cpu", "cpu.max",
                     std::to_string(l.cpu_quota_us) + " " + std::to_string(cpu_period_us)});
    else {
      out.push_back({"cpu", "cpu.cfs_period_us", std::to_string(cpu_period_us)});
      out.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(l.cpu_quota_us)});
    }
  }
  if (l.cpu_weight) {
    if (v2("cpu")) out.push_back({"cpu", "cpu.weight", std::to_string(l.cpu_weight)});
    else out.push_back({"cpu", "cpu.shares", std::to_string(weight_to_shares(l.cpu_weight))});
  }
  if (l.pids_max) out.push_back({"pids", "pids.max", std::to_string(l.pids_max)});
  return out;
}

} // namespace arbor::os
