#pragma once

// What a new daemon makes of the processes a dead one left: which live
// process is each instance's run (to adopt), and which are strays to stop.
// The kernel says what runs (every process of the home, found by its
// ARBOR_ID); the journal only helps to tell a run from what its dead leader
// left behind. Pure: no /proc, no actors (tested alone).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "journal/journal.hpp"
#include "os/identity.hpp"

namespace arbor::detail {

struct readopt_plan {
  /// "app#i" -> the process to adopt as that instance's run.
  std::map<std::string, os::marked_process> runs;
  /// Processes to stop: of apps or instances the config no longer has, of
  /// older runs (a reload cut short), or left by a run whose leader died.
  std::vector<os::marked_process> strays;
  /// The largest generation seen (marks and records): new spawns go past it.
  uint64_t max_generation = 0;
};

/// `records`: the journal's, by "app#i". `configured(app, index)`: whether
/// the new tree has that instance.
readopt_plan plan_readoption(const std::vector<os::marked_process>& found,
                             const std::map<std::string, journal::instance_record>& records,
                             const std::function<bool(const std::string&, uint32_t)>& configured);

} // namespace arbor::detail
