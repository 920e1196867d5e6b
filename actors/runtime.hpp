#pragma once

// What every actor of one tree shares: the exit watcher, the log pump, the
// sampler, the event bus, the base environment. Actors hold a shared_ptr, so
// all of it outlives the last of them.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "logs/log_pump.hpp"
#include "os/exit_watcher.hpp"
#include "os/proc_stats.hpp"

namespace arbor::detail {

/// Which app supervisor wants the memory samples of which pid (apps with
/// max_memory). Written by process actors, read on the sampler thread.
class memory_registry {
public:
  struct entry {
    caf::actor app;
    uint32_t index = 0;
  };
  void set(int32_t old_pid, int32_t new_pid, const caf::actor& app, uint32_t index) {
    std::lock_guard<std::mutex> g{m_};
    if (old_pid > 0) by_pid_.erase(old_pid);
    if (new_pid > 0) by_pid_[new_pid] = entry{app, index};
  }
  std::optional<entry> find(int32_t pid) const {
    std::lock_guard<std::mutex> g{m_};
    auto i = by_pid_.find(pid);
    if (i == by_pid_.end()) return std::nullopt;
    return i->second;
  }

private:
  mutable std::mutex m_;
  std::unordered_map<int32_t, entry> by_pid_;
};

struct runtime {
  os::exit_watcher watcher;
  memory_registry memory;                ///< before the sampler: it reads this
  caf::actor bus;                        ///< event_bus
  std::string log_dir;                   ///< "" = children's output is discarded
  std::unique_ptr<logs::log_pump> pump;  ///< set when log_dir is
  std::unique_ptr<os::sampler> sampler;  ///< memory/CPU of every watched process tree
  std::vector<std::string> base_env;     ///< "K=V", arbor's environment at start

  ~runtime() {
    sampler.reset(); // it reads the watcher's pids: stop it first
  }
};

using runtime_ptr = std::shared_ptr<runtime>;

} // namespace arbor::detail
