#pragma once

// What `restart all` restarts: what runs or is wanted up. A one-shot that
// finished (its policy keeps it down after a clean exit) stays finished
// unless it is named.

#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "arbor/state.hpp"

namespace arbor::detail {

/// Whether `app` finished: every instance stopped after `exit(0)` and its
/// restart policy (never, on_failure) does not run it again.
bool finished_one_shot(const node_status& app, const app_spec& spec);

/// The addresses `restart all` sends for the tree `root` now in state
/// `status`: "" (the root, restarted as one group) when nothing finished;
/// else every group without a finished app in it as a whole, the others
/// opened up, and every app that did not finish, in start order.
std::vector<std::string> restart_all_addresses(const group_spec& root, const node_status& status);

} // namespace arbor::detail
