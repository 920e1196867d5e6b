#pragma once

// What `apply` will do to a running tree, from the two specs alone: the
// plan `apply --dry-run` (and `up` on a running daemon) prints, and the keys
// a real apply names for each app it restarts. It follows the group actors'
// reconciliation (actors/group/group_reconcile.cpp): children matched by
// name and kind; an app whose keys differ only in `instances` is scaled,
// any other difference reloads or restarts it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arbor/spec.hpp"

namespace arbor::config {

struct apply_plan {
  struct change {
    std::string app;
    std::vector<std::string_view> keys;  ///< the keys that differ, in the config's order
    bool reload = false;                 ///< by a rolling reload if it runs (reloads_on_apply)
  };
  struct rescale {
    std::string app;
    uint32_t from = 0, to = 0;
  };
  std::vector<std::string> added, removed, unchanged;  ///< app paths
  std::vector<change> changed;
  std::vector<rescale> scaled;
};

/// The keys that differ between two specs of an app, as `apply` names them:
/// in the config's order, `args` left out when `command` changed (the file
/// wrote one, the loader split it into the other).
std::vector<std::string_view> apply_keys(const app_spec& current, const app_spec& next);

/// Whether `apply` replaces a changed app by a rolling reload (each instance's
/// replacement ready before its old run stops) rather than stopping and
/// starting it: the new spec has readiness to wait for (a health check or
/// ready = "notify"), and no key changed that the app's supervisor holds
/// itself (listen sockets, watch, log files, cron, depends_on). Only when the
/// app runs; that is the supervisor's to say.
bool reloads_on_apply(const app_spec& current, const app_spec& next);

/// The plan for applying `next` over `current` (both roots).
apply_plan plan_apply(const group_spec& current, const group_spec& next);

} // namespace arbor::config
