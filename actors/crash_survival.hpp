#pragma once

// What lets a daemon that was SIGKILLed be replaced without touching its
// apps: every spawn's identity in its environment (os/identity.hpp), a
// journal of each instance's policy (wanted up or not, counters, its last
// run) written off the actors' threads, and the keeper process that holds
// the apps' output pipes while no daemon reads them. On startup the new
// daemon finds the home's processes in /proc, decides with the journal which
// is each instance's run (readopt_plan.hpp), stops the rest, and takes the
// pipes back from the keeper.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "journal/journal_store.hpp"
#include "keeper/keeper_client.hpp"
#include "logs/log_pump.hpp"
#include "os/identity.hpp"

namespace arbor::detail {

class crash_survival {
public:
  /// `dir`: where state.json lives and the keeper listens ($ARBOR_HOME).
  crash_survival(std::string dir, std::string keeper_binary);

  /// Startup, before any actor runs: reads the last journal, applies its
  /// scales to `spec`, finds the home's live processes, stops those that are
  /// no instance's run of `spec`, hands the keeper's pipes to `pump` (apps
  /// configured first) and sets the pump's hook so every new pipe is held by
  /// the keeper. Returns the largest spawn generation it saw. Problems are
  /// logged: a daemon without a keeper still runs (its apps just lose the
  /// protection).
  uint64_t recover(tree_spec& spec, logs::log_pump* pump, const std::string& log_dir);

  /// What the previous daemon left for one instance.
  struct left_behind {
    std::optional<journal::instance_record> record; ///< its journal record
    std::optional<os::marked_process> run;          ///< its live run, by ARBOR_ID
  };
  /// For "app#i", taken once.
  left_behind take(const std::string& id);

  void put(journal::instance_record r);
  void erase(const std::string& app, uint32_t index);
  void erase_app(const std::string& app);
  void set_scale(const std::string& app, uint32_t n);

  /// A clean stop: whatever of the home is still alive (what escaped its
  /// run's process group and stop) is stopped, the journal removed (the
  /// next start is a fresh one) and the keeper told to exit. Later puts are
  /// ignored.
  void close_clean();

private:
  void take_pipes(const std::map<std::string, app_spec*>& apps, logs::log_pump* pump,
                  const std::string& log_dir);

  std::string dir_;
  std::string keeper_binary_;
  journal::journal_store store_;
  keeper::keeper_client keeper_;
  std::mutex m_;
  std::map<std::string, journal::instance_record> previous_;
  std::map<std::string, os::marked_process> runs_;
  bool closed_ = false;
};

} // namespace arbor::detail
