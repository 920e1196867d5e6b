#pragma once

// Whether a second listener can bind a TCP port beside whoever holds it now:
// a reload's replacement takes its instance's own port when it can.

#include <cstdint>

namespace arbor::os {

/// Whether a socket with SO_REUSEPORT, of this process's user, can bind
/// `port` on both wildcard addresses (IPv4, and IPv6 where the host has it)
/// now. True when nothing holds the port, or only listeners that set
/// SO_REUSEPORT under the same user; false when any other holds it. The probe
/// binds and closes at once, without listening, so it never takes a
/// connection.
bool port_shareable(uint16_t port);

} // namespace arbor::os
