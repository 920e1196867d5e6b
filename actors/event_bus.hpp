#pragma once

#include <caf/all.hpp>

#include "arbor/messages.hpp"

namespace arbor::detail {

/// Fans events out to subscribers (subscribe_atom / unsubscribe_atom, from
/// the sender) and, when `log` is set, writes each as an OTP-style log line
/// through arbor's log sink (arbor/log.hpp).
caf::behavior event_bus(caf::event_based_actor* self, bool log);

/// Wall clock now, ns since epoch.
int64_t wall_now_ns();

/// The log line for an event (without timestamp/level): fixed fields first.
std::string format_event(const event& e);

} // namespace arbor::detail
