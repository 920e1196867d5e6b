#include "os/cgroup_limits.hpp"

#include <algorithm>

namespace arbor::os {

std::vector<std::string> controllers_needed(const cgroup_limits& l) {
  std::vector<std::string> out;
  if (l.memory_max) out.emplace_back("memory");
  if (l.cpu_quota_us || l.cpu_weight) out.emplace_back("cpu");
  if (l.pids_max) out.emplace_back("pids");
  return out;
}

uint64_t weight_to_shares(uint32_t weight) {
  // v1 refuses shares below 2; v2's default weight 100 is v1's 1024.
  return std::max<uint64_t>(2, uint64_t{weight} * 1024 / 100);
}

} // namespace arbor::os
