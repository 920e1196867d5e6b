#pragma once

// The tree's state as the control protocol's JSON (src/proto/PROTOCOL.md).

#include "config/apply_plan.hpp"

#include <nlohmann/json.hpp>

#include "arbor/messages.hpp"
#include "arbor/spec.hpp"
#include "arbor/state.hpp"

namespace arbor::detail {

nlohmann::json instance_json(const instance_status& x, const std::string& app);
/// A node of the tree; apps carry their restart policy and command from `root`.
nlohmann::json node_json(const node_status& n, const group_spec& root);
/// Every instance under `n`, in start order.
void collect_instances(const node_status& n, std::vector<nlohmann::json>& out);
/// The node named `path` under `n` (an app or group); nullptr if none.
const node_status* find_node(const node_status& n, const std::string& path);
nlohmann::json event_json(const event& e);
/// An app's or group's settings as config keys (for `show`).
nlohmann::json spec_json(const app_spec& a);
nlohmann::json spec_json(const group_spec& g);
nlohmann::json report_json(const apply_report& r);
/// `apply`'s answer for a plan (a dry run): the report's lists, plus
/// `changes` (app → the keys that differ) and `scale` (app → {from, to}).
nlohmann::json plan_json(const config::apply_plan& p);

} // namespace arbor::detail
