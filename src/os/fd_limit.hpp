#pragma once

// RLIMIT_NOFILE: how many descriptors this process may open (the daemon's
// descriptor budget is checked against it: config/fd_budget.hpp).

#include <cstdint>
#include <string>

namespace arbor::os {

/// The soft limit now (prlimit may change it from outside); UINT64_MAX if
/// unlimited or unknown.
uint64_t fd_soft_limit();

/// The hard limit: what the soft limit can be raised to without privilege,
/// so the limit a daemon started from this process gets. UINT64_MAX if
/// unlimited or unknown.
uint64_t fd_hard_limit();

/// Raises the soft limit to the hard one (systemd does the same for its own
/// manager); children inherit it. Empty, or why it could not.
std::string raise_fd_limit();

} // namespace arbor::os
