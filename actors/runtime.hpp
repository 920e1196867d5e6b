#pragma once

// What every actor of one tree shares: the exit watcher, the event bus, where
// logs go, the base environment. Owned by supervision_tree; actors get a
// shared_ptr so it outlives them.

#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "os/exit_watcher.hpp"

namespace arbor::detail {

struct runtime {
  os::exit_watcher watcher;
  caf::actor bus;                       ///< event_bus
  std::string log_dir;                  ///< per-instance stdout/stderr files; "" = /dev/null
  std::vector<std::string> base_env;    ///< "K=V", arbor's environment at start
};

using runtime_ptr = std::shared_ptr<runtime>;

} // namespace arbor::detail
