#pragma once

// What lets a daemon that was SIGKILLed be replaced without touching its
// apps: every spawn's identity in its environment (os/identity.hpp), a
// journal of each instance's policy (wanted up or not, counters, its last
// run) written off the actors' threads. On startup the new daemon finds the
// home's processes in /proc, decides with the journal which is each
// instance's run (readopt_plan.hpp) and stops the rest; the keeper process
// holds the apps' output pipes meanwhile (keeper_link.hpp).

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "journal/journal_store.hpp"
#include "logs/log_pump.hpp"
#include "os/identity.hpp"

namespace arbor::os {
class cgroup_tree;
}

namespace arbor::detail {

class crash_survival {
public:
  /// `dir`: where state.json lives ($ARBOR_HOME).
  explicit crash_survival(std::string dir);

  /// Startup, before any actor runs: reads the last journal, applies its
  /// scales to `spec`, finds the home's live processes, stops those that are
  /// no instance's run of `spec`, and configures every app of `spec` in
  /// `pump` (for the keeper's pipes, which keeper_link hands to it next).
  /// Returns the largest spawn generation it saw. Problems are logged.
  uint64_t recover(tree_spec& spec, logs::log_pump* pump, const std::string& log_dir,
                   os::cgroup_tree* cgroups = nullptr);

  /// What the previous daemon left for one instance.
  struct left_behind {
    std::optional<journal::instance_record> record; ///< its journal record
    std::optional<os::marked_process> run;          ///< its live run, by ARBOR_ID
    std::string cgroup;  ///< the run cgroup that held `run` at startup ("" if none)
  };
  /// For "app#i", taken once.
  left_behind take(const std::string& id);

  void put(journal::instance_record r);
  void erase(const std::string& app, uint32_t index);
  void erase_app(const std::string& app);
  void set_scale(const std::string& app, uint32_t n);

  /// A clean stop: whatever of the home is still alive (what escaped its
  /// run's process group and stop) is stopped, and the journal removed (the
  /// next start is a fresh one). Later puts are ignored.
  void close_clean();

private:
  std::string dir_;
  journal::journal_store store_;
  std::mutex m_;
  std::map<std::string, journal::instance_record> previous_;
  std::map<std::string, os::marked_process> runs_;
  std::map<std::string, std::string> run_cgroups_; ///< "app#i" -> the cgroup of its run
  bool closed_ = false;
};

} // namespace arbor::detail
