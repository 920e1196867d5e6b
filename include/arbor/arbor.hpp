#pragma once

// arbor as a library: everything an embedder needs to run a supervision tree
// of OS processes inside its own caf::actor_system. Include this one header.
//
//   caf::actor_system_config cfg;
//   arbor::add_message_types(cfg);                 // before the system exists
//   caf::actor_system sys{cfg};
//   auto spec = arbor::load_config("arbor.toml");  // or build a tree_spec in code
//   if (!spec) { std::cerr << sys.render(spec.error()); return 1; }
//   arbor::supervision_tree tree{sys, std::move(*spec)};
//   tree.start();
//
// Link with `find_package(arbor)` + `target_link_libraries(x PRIVATE arbor::core)`.
// No toml++, spdlog, fmt or httplib type appears in these headers.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "arbor/messages.hpp"
#include "arbor/spec.hpp"
#include "arbor/state.hpp"
#include "arbor/tree.hpp"

namespace arbor {

// --- errors ------------------------------------------------------------------

/// Errors arbor reports as `caf::error` in the category `caf::atom("arbor")`.
enum class errc : uint8_t {
  /// The config file cannot be read or is not valid. The error's context holds
  /// one `std::vector<std::string>`: every problem as `file:line:col: message`
  /// (`file: message` when there is no position), sorted by position. Read it
  /// with diagnostics().
  invalid_config = 1,
};

/// "invalid_config".
const char* to_string(errc x);

/// An arbor error without context (makes `caf::error e = errc::...` work).
caf::error make_error(errc x);

/// An arbor error carrying `diagnostics` (see errc::invalid_config).
caf::error make_error(errc x, std::vector<std::string> diagnostics);

/// The `file:line:col: message` lines an invalid_config error carries; empty
/// for any other error (including those of other categories).
std::vector<std::string> diagnostics(const caf::error& e);

// --- setting up the actor system ---------------------------------------------

/// Registers arbor's message types (`event`, `reason`, `instance_status`,
/// `node_status`, `apply_report`, under the names "arbor.event", ...) and a
/// renderer for the "arbor" error category, so `sys.render(err)` prints every
/// diagnostic. Call it once on the embedder's own config before constructing the
/// caf::actor_system; calling it twice on one config is harmless. Registration
/// is what CAF needs to print and serialize these types (caf::io, logging);
/// local messaging works without it. Changes nothing else in `cfg` (the
/// scheduler stays the embedder's choice; arbor's own daemon uses
/// `scheduler.policy = sharing`, which costs far less idle CPU).
void add_message_types(caf::actor_system_config& cfg);

// --- building a tree -----------------------------------------------------------

/// Loads and validates a TOML config file (the format `arbor run` reads).
/// Relative paths inside it (cwd, env_file) are relative to the file's
/// directory; an app's cwd defaults to that directory. Never throws.
///
/// Errors a caller must handle: `errc::invalid_config` when the file cannot be
/// read or has any error; every problem is reported at once (see
/// diagnostics()), and no tree is returned when there is one.
///
/// Specs built in code (`tree_spec` with `root.children` filled) get the same
/// rules, with the same messages, from supervision_tree's constructor
/// (std::invalid_argument); an app whose program cannot run is reported at
/// start as a `spawn_failed` event and the instance enters `proc_state::failed`.
caf::expected<tree_spec> load_config(const std::string& path);

// --- typed handles -------------------------------------------------------------

/// The message interface of the root supervisor (every group supervisor
/// answers the same), as a typed handle, so sends and requests type-check at
/// compile time. `addr` is a dotted path ("" or the group's own name = the
/// whole group, "web.api" an app, "web.api#1" one instance); `why` is an
/// arbor::reason: its text shows in events and status, its cause is what the
/// `restarting` events it leads to (and /metrics) report: pass manual("...")
/// for a command from outside the tree, as the CLI does. Replies to addressed
/// commands are the ids of the affected instances. Errors a caller must handle in a
/// request's error handler: `caf::sec::invalid_argument` for an address that
/// names nothing ("no app or group named 'x'"), `caf::sec::request_timeout`
/// when the request's timeout passes, `caf::sec::request_receiver_down` once
/// the tree is destroyed.
///
/// - `start_atom`                       want the whole tree up (prefer
///                                      supervision_tree::start())
/// - `stop_atom` -> bool                stop all, reverse start order; true
///                                      once every process is gone (prefer
///                                      supervision_tree::stop())
/// - `(start|stop|restart_atom, addr, why)` -> instance ids
/// - `(scale_atom, addr, n)` -> the app's previous instance count
/// - `(signal_atom, sig, addr)` -> instance ids, pids signalled
/// - `(apply_atom, std::shared_ptr<const group_spec>)` -> apply_report:
///                                      reconcile with a new spec (e.g. the
///                                      `root` of a fresh load_config()); sent
///                                      to the root, a spec that breaks the
///                                      constructor's rules is refused with
///                                      `caf::sec::invalid_argument`
/// - `status_atom` -> node_status       snapshot of the whole tree
/// - `halt_atom`                        SIGKILL every process group now
///
/// The tree's actors are dynamically typed; this handle is a checked view of
/// them (obtained with root_of()), not a different actor.
using root_actor = caf::typed_actor<
  caf::reacts_to<start_atom>,
  caf::replies_to<stop_atom>::with<bool>,
  caf::replies_to<start_atom, std::string, reason>::with<std::vector<std::string>>,
  caf::replies_to<stop_atom, std::string, reason>::with<std::vector<std::string>>,
  caf::replies_to<restart_atom, std::string, reason>::with<std::vector<std::string>>,
  caf::replies_to<scale_atom, std::string, uint32_t>::with<uint32_t>,
  caf::replies_to<signal_atom, int, std::string>::with<std::vector<std::string>,
                                                        std::vector<int32_t>>,
  caf::replies_to<apply_atom, std::shared_ptr<const group_spec>>::with<apply_report>,
  caf::replies_to<status_atom>::with<node_status>,
  caf::reacts_to<halt_atom>>;

/// The event bus. Request `subscribe_atom` from an actor (-> true; false when
/// the sender is not an actor): from then on it receives every `event` of
/// the tree as a message, in order per instance, until it sends
/// `unsubscribe_atom` or terminates (the bus monitors subscribers).
using event_bus_actor = caf::typed_actor<
  caf::replies_to<subscribe_atom>::with<bool>,
  caf::reacts_to<unsubscribe_atom>>;

/// The root of `tree` as a typed handle (same actor as tree.root()).
root_actor root_of(const supervision_tree& tree);

/// The event bus of `tree` as a typed handle (same actor as tree.events()).
event_bus_actor events_of(const supervision_tree& tree);

} // namespace arbor
