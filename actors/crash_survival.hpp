#pragma once

// What lets a daemon that was SIGKILLed be replaced without touching its
// apps: a journal of every instance (pid + /proc start time, counters,
// states) written off the actors' threads, and the keeper process that holds
// the apps' output pipes while no daemon reads them. On startup the new
// daemon reads the journal, re-adopts the instances still alive, and takes
// the pipes back from the keeper.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "journal/journal_store.hpp"
#include "keeper/keeper_client.hpp"
#include "logs/log_pump.hpp"

namespace arbor::detail {

class crash_survival {
public:
  /// `dir`: where state.json lives and the keeper listens ($ARBOR_HOME).
  crash_survival(std::string dir, std::string keeper_binary);

  /// Startup, before any actor runs: reads the last journal, stops what it
  /// recorded that `spec` no longer has, applies recorded scales to `spec`,
  /// hands the keeper's pipes to `pump` (apps configured first) and sets the
  /// pump's hook so every new pipe is held by the keeper. Problems are
  /// logged: a daemon without a keeper still runs (its apps just lose the
  /// protection).
  void recover(tree_spec& spec, logs::log_pump* pump, const std::string& log_dir);

  /// The record the previous daemon left for "app#i", taken once.
  std::optional<journal::instance_record> take(const std::string& id);

  void put(journal::instance_record r);
  void erase(const std::string& app, uint32_t index);
  void erase_app(const std::string& app);
  void set_scale(const std::string& app, uint32_t n);

  /// A clean stop: the journal is removed (the next start is a fresh one)
  /// and the keeper told to exit. Later puts are ignored.
  void close_clean();

private:
  std::string dir_;
  std::string keeper_binary_;
  journal::journal_store store_;
  keeper::keeper_client keeper_;
  std::mutex m_;
  std::map<std::string, journal::instance_record> previous_;
  bool closed_ = false;
};

} // namespace arbor::detail
