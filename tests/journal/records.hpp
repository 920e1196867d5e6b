#pragma once

// Journal records for the journal tests: distinct per pid, a last exit once
// the instance has restarted.

#include <cstdint>
#include <string>

#include "journal/journal.hpp"

namespace arbor::journal::test {

inline instance_record rec(const std::string& app, uint32_t index, int32_t pid,
                           uint32_t restarts = 0) {
  instance_record r;
  r.app = app;
  r.index = index;
  r.pid = pid;
  r.start_time = 5000u + static_cast<uint64_t>(pid);
  r.restarts = restarts;
  r.state = "running";
  r.last_exit = restarts ? "signal(SIGKILL)" : "";
  return r;
}

} // namespace arbor::journal::test
