#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>

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

} // namespace arbor::detail
