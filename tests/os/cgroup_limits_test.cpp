#include <catch2/catch.hpp>

#include "os/cgroup_limits.hpp"

using namespace arbor::os;

namespace {
std::string joined(const std::vector<limit_write>& ws) {
  std::string out;
  for (auto& w : ws) out += w.controller + ":" + w.file + "=" + w.value + (w.optional ? "?" : "") + "\n";
  return out;
}
} // namespace

TEST_CASE("cgroup limits on v2 files", "[cgroup]") {
  cgroup_limits l;
  l.memory_max = 64 << 20;
  l.cpu_quota_us = 50000;
  l.cpu_weight = 200;
  l.pids_max = 60;
  CHECK(joined(limit_writes(l, [](const std::string&) { return true; }))
        == "memory:memory.max=67108864\nmemory:memory.swap.max=0?\nmemory:memory.oom.group=1\n"
           "cpu:cpu.max=50000 100000\ncpu:cpu.weight=200\npids:pids.max=60\n");
}

TEST_CASE("cgroup limits on a hybrid host's v1 files, with the same meaning", "[cgroup]") {
  cgroup_limits l;
  l.memory_max = 64 << 20;
  l.cpu_quota_us = 150000;
  l.cpu_weight = 100;
  l.pids_max = 60;
  CHECK(joined(limit_writes(l, [](const std::string&) { return false; }))
        == "memory:memory.limit_in_bytes=67108864\nmemory:memory.memsw.limit_in_bytes=67108864?\n"
           "cpu:cpu.cfs_period_us=100000\ncpu:cpu.cfs_quota_us=150000\ncpu:cpu.shares=1024\n"
           "pids:pids.max=60\n");
}

TEST_CASE("cgroup limits: which controllers, and weights as shares", "[cgroup]") {
  cgroup_limits l;
  CHECK_FALSE(l.any());
  CHECK(controllers_needed(l).empty());
  l.cpu_weight = 1;
  l.pids_max = 2;
  CHECK(controllers_needed(l) == std::vector<std::string>{"cpu", "pids"});
  CHECK(weight_to_shares(1) == 10);
  CHECK(weight_to_shares(100) == 1024);
  CHECK(weight_to_shares(10000) == 102400);
}
