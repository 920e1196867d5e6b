#include "restart_all.hpp"

#include <algorithm>

#include "control_json.hpp"

namespace arbor::detail {

namespace {

/// Whether any app under `g` finished.
bool holds_finished(const group_spec& g, const node_status& status) {
  return std::any_of(g.children.begin(), g.children.end(), [&](const node_spec& c) {
    if (c.type == node_spec::kind::group) return holds_finished(c.group, status);
    auto* node = find_node(status, c.app.name);
    return node && finished_one_shot(*node, c.app);
  });
}

void collect(const group_spec& g, const node_status& status, std::vector<std::string>& out) {
  for (const auto& c : g.children) {
    if (c.type == node_spec::kind::app) {
      auto* node = find_node(status, c.app.name);
      if (!node || !finished_one_shot(*node, c.app)) out.push_back(c.app.name);
    } else if (holds_finished(c.group, status)) {
      collect(c.group, status, out);
    } else {
      out.push_back(c.group.name);
    }
  }
}

} // namespace

bool finished_one_shot(const node_status& app, const app_spec& spec) {
  if (spec.restart == restart_policy::always || app.instances.empty()) return false;
  return std::all_of(app.instances.begin(), app.instances.end(), [](const instance_status& x) {
    return x.state == proc_state::stopped && x.last_exit == "exit(0)";
  });
}

std::vector<std::string> restart_all_addresses(const group_spec& root, const node_status& status) {
  if (!holds_finished(root, status)) return {""};
  std::vector<std::string> out;
  collect(root, status, out);
  return out;
}

} // namespace arbor::detail
