#pragma once

// What every actor of one tree shares: the exit watcher, the log pump, the
// sampler, the event bus, the base environment. Actors hold a shared_ptr, so
// all of it outlives the last of them.

#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "logs/log_pump.hpp"
#include "os/exit_watcher.hpp"
#include "os/proc_stats.hpp"

namespace arbor::detail {

struct runtime {
  os::exit_watcher watcher;
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
