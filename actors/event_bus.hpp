#pragma once

#include <caf/all.hpp>

#include "arbor/messages.hpp"

namespace arbor::detail {

/// Fans events out to subscribers (subscribe_atom / unsubscribe_atom, from
/// the sender) and, when `log` is set, writes each as an OTP-style log line
/// through arbor's logger (arbor/spdlog.hpp).
/// Also (subscribe_atom, actor who) -> bool: subscribes `who`.
caf::behavior event_bus(caf::event_based_actor* self, bool log);

/// Subscribes `who` to `bus` and waits for the bus to confirm (false after
/// 2 s or on error). Events sent to the bus after this returns reach `who`:
/// call it before starting the tree, or the first events (the start's, an
/// adoption's) can pass before an actor's own subscribe_atom arrives.
bool subscribe_before_start(caf::actor_system& sys, const caf::actor& bus,
                            const caf::actor& who);

/// Wall clock now, ns since epoch.
int64_t wall_now_ns();

/// The log line for an event (without timestamp/level): fixed fields first.
std::string format_event(const event& e);

} // namespace arbor::detail
