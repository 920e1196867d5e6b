#pragma once

// Loopback ports for tests that start servers.

#include <cstdint>

namespace arbor::test {

/// The first of `n` consecutive loopback TCP ports that are free right now
/// (each bound and released once to check); a random start per call.
uint16_t free_ports(int n);

} // namespace arbor::test
