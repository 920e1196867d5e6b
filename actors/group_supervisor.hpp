#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "arbor/messages.hpp"
#include "arbor/spec.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// Supervises a group's children (apps and groups) in start order. The root
/// of the tree is a group named "". Strategies and intensity arrive with the
/// strategies issue; today every group behaves as one_for_one.
///
/// start_atom                 start children in order
/// stop_atom -> bool          stop children one by one in reverse order
/// status_atom -> node_status
/// Addressed commands (see arbor/messages.hpp) for its own name act on the
/// whole group; others are routed to the child whose subtree holds them.
struct group_supervisor_state {
  static inline const char* name = "group_supervisor";
  std::shared_ptr<const group_spec> spec;
  caf::actor parent;
  runtime_ptr rt;
  std::vector<caf::actor> children;  ///< start order
  bool want_up = false;
};

caf::behavior group_supervisor(caf::stateful_actor<group_supervisor_state>* self,
                               std::shared_ptr<const group_spec> spec, caf::actor parent,
                               runtime_ptr rt);

/// Spawns (monitored) the supervisor of one child of this group; not started.
caf::actor spawn_child(caf::stateful_actor<group_supervisor_state>* self, const node_spec& child);

/// `apply`: reconciles the group with `next` (group_reconcile.cpp): children
/// that are gone are stopped (reverse order) and retired, new ones spawned
/// (and started if the group is wanted up), apps whose run spec changed are
/// restarted with the new spec, apps whose only change is `instances` are
/// scaled, sub-groups reconcile recursively; everything else is untouched.
caf::result<apply_report> reconcile(caf::stateful_actor<group_supervisor_state>* self,
                                    std::shared_ptr<const group_spec> next);

} // namespace arbor::detail
