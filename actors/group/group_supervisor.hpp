#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "arbor/messages.hpp"
#include "arbor/spec.hpp"
#include "policy/restart_window.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// Supervises a group's children (apps and groups) in start order, OTP-style.
/// The root of the tree is a group named "".
///
/// Every restart event of a child arrives as a child_event request: from an
/// app's instance that crashed (it restarts itself; when the group limits
/// intensity it waits for the answer first), or from an instance or a
/// sub-group that gave up. The group counts it in its intensity
/// window (if `intensity` is set); past the limit it gives up: stops every
/// child (reverse order), enters `failed` and reports that to its parent as
/// one event. Otherwise it applies its strategy: one_for_all restarts every
/// other child, rest_for_one the children after the one that failed (stop in
/// reverse order, start in order), one_for_one none. A child that gave up is
/// restarted fresh (with its strategy's siblings) only when the group has a
/// finite intensity; with no limit it stays failed until restarted by hand.
///
/// start_atom / stop_atom -> bool          the whole group
/// (start|stop|restart_atom, addr, why) -> ids  own name: the whole group;
///                                              else routed to the child
/// (scale_atom, addr, n), (signal_atom, sig, addr), (apply_atom, spec),
/// child_event -> bool, status_atom -> node_status
struct group_supervisor_state {
  static inline const char* name = "group_supervisor";
  std::shared_ptr<const group_spec> spec;
  caf::actor parent;
  runtime_ptr rt;
  std::vector<caf::actor> children;  ///< start order, parallel to spec->children
  bool want_up = false;
  std::optional<restart_window> window; ///< set when spec->intensity is
  bool failed = false;               ///< gave up (intensity exceeded)
  std::string reason;                ///< why it failed
};

using group_self = caf::stateful_actor<group_supervisor_state>*;

caf::behavior group_supervisor(group_self self, std::shared_ptr<const group_spec> spec,
                               caf::actor parent, runtime_ptr rt);

/// Spawns (monitored) the supervisor of one child of this group; not started.
caf::actor spawn_child(group_self self, const node_spec& child);

/// `apply`: reconciles the group with `next` (group_reconcile.cpp): children
/// that are gone are stopped (reverse order) and retired, new ones spawned
/// (and started if the group is wanted up), apps whose run spec changed are
/// restarted with the new spec, apps whose only change is `instances` are
/// scaled, sub-groups reconcile recursively; everything else is untouched.
caf::result<apply_report> reconcile(group_self self, std::shared_ptr<const group_spec> next);

} // namespace arbor::detail
