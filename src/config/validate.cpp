#include "config/validate.hpp"

#include <algorithm>

#include "config/limits.hpp"
#include "config/units.hpp"

namespace arbor::config {

namespace {

bool written(const app_spec& app, const std::string& key) {
  return std::any_of(app.key_where.begin(), app.key_where.end(),
                     [&](const auto& kw) { return kw.first == key; });
}

/// Ranges and combinations of one app's keys.
void check_app(const app_spec& app, std::vector<diagnostic>& errors) {
  auto in_app = " in app '" + app.name + "'";
  if (app.instances < 1 || app.instances > max_instances)
    errors.push_back({app.where_of("instances"), "'instances' must be between 1 and "
                                                   + std::to_string(max_instances) + ", got "
                                                   + std::to_string(app.instances)});
  if (app.backoff_base.count() <= 0) {
    errors.push_back({app.where_of("backoff_base_ms"), "'backoff_base_ms' must be greater than 0"});
  } else if (app.backoff_base > app.backoff_max) {
    auto key = written(app, "backoff_base_ms") ? "backoff_base_ms" : "backoff_max_ms";
    errors.push_back({app.where_of(key), "'backoff_base_ms' (" + format_duration(app.backoff_base)
                                           + ") is larger than 'backoff_max_ms' ("
                                           + format_duration(app.backoff_max) + ")" + in_app});
  }
  uint64_t last_port = uint64_t{app.port} + app.instances - 1;
  if (app.port != 0 && app.instances > 0 && last_port > 65535)
    errors.push_back({app.where_of("port"), "'port' " + std::to_string(app.port) + " with "
                                              + std::to_string(app.instances)
                                              + " instances needs ports up to "
                                              + std::to_string(last_port) + ", beyond 65535"});
}

void check_apps(const group_spec& g, std::vector<diagnostic>& errors) {
  for (const auto& c : g.children) {
    if (c.type == node_spec::kind::app)
      check_app(c.app, errors);
    else
      check_apps(c.group, errors);
  }
}

} // namespace

std::vector<diagnostic> validate(tree_spec& tree) {
  std::vector<diagnostic> errors;
  check_limits(tree, errors);
  check_apps(tree.root, errors);
  detail::resolve_dependencies(tree.root, errors);
  if (errors.empty()) detail::order_by_dependencies(tree.root);
  return errors;
}

std::string to_string(const std::vector<diagnostic>& errors) {
  std::string text;
  for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e.to_string();
  return text;
}

} // namespace arbor::config
