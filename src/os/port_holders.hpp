#pragma once

// Which processes hold a set of sockets, and whose they are (their process
// group and the ARBOR_ID identity they carry): the walk of /proc behind
// "this instance listens on the port itself".

#include <cstdint>
#include <optional>
#include <vector>

#include <sys/types.h>

#include "os/identity.hpp"

namespace arbor::os {

/// A live process holding at least one of the sockets asked about.
struct socket_holder {
  pid_t pid = 0;
  pid_t pgrp = 0;
  std::optional<spawn_identity> id; ///< its ARBOR_ID, if it carries one
};

/// Every live process (ours; root: everyone's) holding one of `inodes`
/// (sorted), by a walk of /proc/<pid>/fd. Costs a directory read per process:
/// for a readiness check's startup polls, not a steady timer. Empty without
/// inodes.
std::vector<socket_holder> socket_holders(const std::vector<uint64_t>& inodes);

} // namespace arbor::os
