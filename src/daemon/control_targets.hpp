#pragma once

// The control actor's requests that name apps, groups or instances: a
// request being answered, resolving the names it gives, and sending each
// target its command.

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/targets.hpp"
#include "control_actor.hpp"

namespace arbor::detail::control {

using self_ptr = caf::stateful_actor<control_state>*;
using ids = std::vector<std::string>;
using targets = std::vector<config::target>;

/// Something happened (a request, a reply, an event): the heap is trimmed
/// once nothing has for quiet_before_trim (control_actor.cpp).
void note_busy(self_ptr self);

/// A request being answered: where the reply goes.
struct call {
  self_ptr self;
  uint64_t conn;
  uint64_t id;
  // A final reply ends the request's progress items, if it had any.
  void ok(const nlohmann::json& result) const {
    self->state.progress.erase({conn, id});
    self->state.sink->send(conn, proto::encode_ok(id, result));
    note_busy(self);
  }
  void fail(std::string_view code, std::string_view message,
            const nlohmann::json& extra = nlohmann::json::object()) const {
    self->state.progress.erase({conn, id});
    self->state.sink->send(conn, proto::encode_error(id, code, message, extra));
    note_busy(self);
  }
  void fail(const caf::error& e) const { fail("internal", self->system().render(e)); }
};

/// Work that may block on the disk (reading a config file): it runs on a
/// detached actor of its own thread, never on the scheduler threads the tree
/// uses; `then` runs back on the control actor (control_actor.cpp).
void off_thread(call c, std::function<void()> job, std::function<void()> then);

/// A malformed argument: becomes a bad_request reply.
struct bad_argument : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Asks the root for the whole tree's status, then runs `then` (or fails).
void with_status(call c, std::function<void(node_status&)> then);

/// Resolves names against the applied spec, then runs `then`, or replies
/// with the error. "app#N" must name a running instance: the tree alone
/// knows how many (scale changes it), so it is asked first for such a name.
void resolve(call c, std::vector<std::string> names, std::function<void(targets&)> then);

/// The apps the targets stand for (groups expanded), in order, once each.
ids apps_of(const group_spec& root, const targets& ts);

/// Whether an instance (as in `status`) is one the targets name; all when none.
bool selected(const nlohmann::json& inst, const targets& ts);

/// `start`, `stop` or `restart` (cmd) of each target in turn.
void run_targets(call c, const std::string& cmd, const targets& ts);

/// A `stopping` or `killed` event, to every `stop`/`restart` with progress
/// that acts on its instance: the event's JSON plus the app's `kill_signal`
/// and `kill_timeout_ms`, so a client can say what comes next.
void send_progress(self_ptr self, const event& e);

/// `reload`: named instances, and every app the rest stand for.
void reload_targets(call c, const targets& ts);

/// `signal`: named apps and instances, and every app of the named groups.
void signal_targets(call c, int sig, const targets& ts);

} // namespace arbor::detail::control
