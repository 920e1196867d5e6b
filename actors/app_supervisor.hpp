#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "arbor/spec.hpp"
#include "arbor/state.hpp"
#include "policy/restart_tracker.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// Supervises the instances of one app: restart policy, stop_exit_codes,
/// max_restarts/min_uptime and backoff (restart_tracker, one per instance).
///
/// start_atom                 start every instance (counters reset)
/// stop_atom -> bool          stop every instance; replies when all are gone
/// status_atom -> node_status
struct app_supervisor_state {
  static inline const char* name = "app_supervisor";
  std::shared_ptr<const app_spec> spec;
  caf::actor parent;
  runtime_ptr rt;
  std::vector<caf::actor> instances;       ///< index order
  std::vector<restart_tracker> trackers;   ///< one per instance
  bool want_up = false;
};

caf::behavior app_supervisor(caf::stateful_actor<app_supervisor_state>* self,
                             std::shared_ptr<const app_spec> spec, caf::actor parent,
                             runtime_ptr rt);

/// The state an app shows, from its instances' states (the most telling one).
std::string summarize(const std::vector<instance_status>& xs);

} // namespace arbor::detail
