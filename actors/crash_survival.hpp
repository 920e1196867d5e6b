#pragma once

// What lets a daemon that was SIGKILLed be replaced without touching its
// apps: a journal of every instance (pid + /proc start time, counters,
// states) written off the actors' threads. On startup the new daemon reads
// the journal and re-adopts the instances still alive; the keeper process
// holds the apps' output pipes meanwhile (keeper_link.hpp).

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "journal/journal_store.hpp"
#include "logs/log_pump.hpp"

namespace arbor::detail {

class crash_survival {
public:
  /// `dir`: where state.json lives ($ARBOR_HOME).
  explicit crash_survival(std::string dir);

  /// Startup, before any actor runs: reads the last journal, stops what it
  /// recorded that `spec` no longer has, applies recorded scales to `spec`,
  /// and configures every app of `spec` in `pump` (for the keeper's pipes,
  /// which keeper_link hands to it next). Problems are logged.
  void recover(tree_spec& spec, logs::log_pump* pump, const std::string& log_dir);

  /// The record the previous daemon left for "app#i", taken once.
  std::optional<journal::instance_record> take(const std::string& id);

  void put(journal::instance_record r);
  void erase(const std::string& app, uint32_t index);
  void erase_app(const std::string& app);
  void set_scale(const std::string& app, uint32_t n);

  /// A clean stop: the journal is removed (the next start is a fresh one).
  /// Later puts are ignored.
  void close_clean();

private:
  std::string dir_;
  journal::journal_store store_;
  std::mutex m_;
  std::map<std::string, journal::instance_record> previous_;
  bool closed_ = false;
};

} // namespace arbor::detail
