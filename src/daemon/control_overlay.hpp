#pragma once

// `add` and `delete`: the apps `arbor start -- CMD` runs without a file,
// kept in the overlay (config/overlay.hpp) so a new daemon runs them again.

#include <nlohmann/json.hpp>

#include "control_targets.hpp"

namespace arbor::detail::control {

/// `add`: one app (name, args, instances, restart, cwd, env) into the
/// overlay and the running tree. A name the tree has is refused.
void do_add(call c, const nlohmann::json& args);

/// `delete`: an overlay app out of the tree and the overlay; an app of the
/// config file is refused (the file is where it goes).
void do_delete(call c, const nlohmann::json& args);

} // namespace arbor::detail::control
