#include "config/apply_plan.hpp"

#include "config/app_fields.hpp"
#include "config/targets.hpp"

#include <algorithm>

namespace arbor::config {

namespace {

void paths_into(const node_spec& n, std::vector<std::string>& out) {
  if (n.type == node_spec::kind::app) return out.push_back(n.app.name);
  auto apps = app_paths(n.group);
  out.insert(out.end(), apps.begin(), apps.end());
}

void plan_app(const app_spec& o, const app_spec& n, apply_plan& plan) {
  auto keys = apply_keys(o, n);
  if (keys.empty()) return plan.unchanged.push_back(n.name);
  if (keys.size() == 1 && keys.front() == "instances")
    return plan.scaled.push_back({n.name, o.instances, n.instances});
  plan.changed.push_back({n.name, std::move(keys), reloads_on_apply(o, n)});
}

void plan_group(const group_spec& current, const group_spec& next, apply_plan& plan) {
  auto same = [](const node_spec& a, const node_spec& b) {
    return a.type == b.type && a.name() == b.name();
  };
  for (const auto& o : current.children)
    if (std::none_of(next.children.begin(), next.children.end(),
                     [&](const node_spec& n) { return same(o, n); }))
      paths_into(o, plan.removed);
  for (const auto& n : next.children) {
    auto o = std::find_if(current.children.begin(), current.children.end(),
                          [&](const node_spec& c) { return same(c, n); });
    if (o == current.children.end()) paths_into(n, plan.added);
    else if (n.type == node_spec::kind::group) plan_group(o->group, n.group, plan);
    else plan_app(o->app, n.app, plan);
  }
}

} // namespace

std::vector<std::string_view> apply_keys(const app_spec& current, const app_spec& next) {
  auto keys = changed_keys(current, next);
  // `command` is split into `args`: one change, said as the file says it.
  if (std::count(keys.begin(), keys.end(), "command"))
    keys.erase(std::remove(keys.begin(), keys.end(), "args"), keys.end());
  return keys;
}

bool reloads_on_apply(const app_spec& current, const app_spec& next) {
  if (next.ready != "notify" && next.health.type == health_check_spec::kind::none) return false;
  static const std::vector<std::string_view> held = {
    "listen", "watch", "watch_ignore", "watch_debounce", "log_max_size", "log_max_files",
    "log_date_format", "cron_restart", "cron_tz", "depends_on"};
  for (auto key : changed_keys(current, next))
    if (std::find(held.begin(), held.end(), key) != held.end()) return false;
  return true;
}

apply_plan plan_apply(const group_spec& current, const group_spec& next) {
  apply_plan plan;
  plan_group(current, next, plan);
  return plan;
}

} // namespace arbor::config
