#pragma once

// What of a home still lives when no daemon does: `arbor down` with no daemon
// to ask ends it rather than saying there is nothing to stop.

#include <string>
#include <vector>

#include "os/terminate.hpp"

namespace arbor::os {

/// Every live process of `home`: those carrying its ARBOR_ID marker, and
/// those in the run cgroups under the root recorded in <home>/cgroup (what
/// scrubbed its environment). Never the caller. Empty when nothing is left.
std::vector<proc_ref> home_leftovers(const std::string& home);

} // namespace arbor::os
