#include "control_json.hpp"

#include <ctime>

#include "config/app_fields.hpp"
#include "config/targets.hpp"

namespace arbor::detail {

using nlohmann::json;

json instance_json(const instance_status& x, const std::string& app) {
  json j{{"id", x.id},
         {"app", app},
         {"index", x.index},
         {"state", to_string(x.state)},
         {"want_up", x.want_up},
         {"pid", x.pid},
         {"uptime_ms", x.pid ? x.uptime_ms : 0},
         {"restarts", x.restarts},
         {"last_exit", x.last_exit},
         {"reason", x.reason}};
  j["memory_bytes"] = x.memory_bytes >= 0 ? json(x.memory_bytes) : json(nullptr);
  j["cpu_percent"] = x.cpu_percent >= 0 ? json(x.cpu_percent) : json(nullptr);
  j["port"] = x.port ? json(x.port) : json(nullptr);
  j["health"] = x.health;
  j["short_runs"] = x.short_runs;
  j["uid"] = x.uid >= 0 ? json(x.uid) : json(nullptr);
  j["gid"] = x.gid >= 0 ? json(x.gid) : json(nullptr);
  if (x.next_try_ms > 0) j["next_try_ms"] = x.next_try_ms;
  j["containment"] = x.cgroup.empty() ? "process-group" : "cgroup";
  j["cgroup"] = x.cgroup.empty() ? json(nullptr) : json(x.cgroup);
  j["processes"] = x.processes >= 0 ? json(x.processes) : json(nullptr);
  return j;
}

json node_json(const node_status& n, const group_spec& root) {
  json j{{"name", n.name}, {"state", n.state}};
  if (!n.reason.empty()) j["reason"] = n.reason;
  if (n.is_group) {
    j["kind"] = "group";
    j["strategy"] = n.strategy;
    const auto* g = n.name.empty() ? &root : config::find_group(root, n.name);
    if (g && g->intensity)
      j["intensity"] = json{{"used", n.intensity_used},
                            {"max", *g->intensity},
                            {"period_s", g->period.count()}};
    else
      j["intensity"] = nullptr;
    j["children"] = json::array();
    for (auto& c : n.children) j["children"].push_back(node_json(c, root));
    return j;
  }
  j["kind"] = "app";
  if (auto* a = config::find_app(root, n.name)) {
    j["restart"] = to_string(a->restart);
    j["command"] = a->command;
  }
  j["instances"] = json::array();
  for (auto& i : n.instances) j["instances"].push_back(instance_json(i, n.name));
  return j;
}

void collect_instances(const node_status& n, std::vector<json>& out) {
  for (auto& i : n.instances) out.push_back(instance_json(i, n.name));
  for (auto& c : n.children) collect_instances(c, out);
}

const node_status* find_node(const node_status& n, const std::string& path) {
  if (n.name == path) return &n;
  for (auto& c : n.children)
    if (auto* x = find_node(c, path)) return x;
  return nullptr;
}

json event_json(const event& e) {
  std::time_t secs = static_cast<std::time_t>(e.at_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char at[48];
  std::snprintf(at, sizeof at, "%s.%03dZ", buf, static_cast<int>((e.at_ns / 1000000) % 1000));
  return json{{"at", at},
              {"at_ns", e.at_ns},
              {"supervisor", e.supervisor},
              {"event", to_string(e.what)},
              {"offender", e.offender},
              {"reason", e.reason},
              {"pid", e.pid},
              {"state", to_string(e.state)}};
}

json spec_json(const app_spec& a) {
  static const app_spec defaults;
  json j = json::object();
  for (const auto& f : config::app_fields())
    if (f.to_json && !(f.omitted_at_default && f.same(a, defaults))) f.to_json(a, j);
  return j;
}

json spec_json(const group_spec& g) {
  json j{{"strategy", to_string(g.strategy)}, {"period", g.period.count()}};
  j["intensity"] = g.intensity ? json(*g.intensity) : json(nullptr);
  j["children"] = json::array();
  for (auto& c : g.children) j["children"].push_back(c.name());
  return j;
}

json plan_json(const config::apply_plan& p) {
  json changed = json::array(), changes = json::object(), scaled = json::array(),
       scale = json::object(), reloads = json::array();
  for (const auto& c : p.changed) {
    changed.push_back(c.app);
    changes[c.app] = std::vector<std::string>(c.keys.begin(), c.keys.end());
    if (c.reload) reloads.push_back(c.app);
  }
  for (const auto& s : p.scaled) {
    scaled.push_back(s.app);
    scale[s.app] = json{{"from", s.from}, {"to", s.to}};
  }
  return json{{"added", p.added},     {"removed", p.removed}, {"changed", changed},
              {"scaled", scaled},     {"unchanged", p.unchanged}, {"changes", changes},
              {"scale", scale},       {"reloaded", reloads}};
}

json report_json(const apply_report& r) {
  return json{{"added", r.added},
              {"removed", r.removed},
              {"changed", r.changed},
              {"scaled", r.scaled},
              {"unchanged", r.unchanged},
              {"reloaded", r.reloaded}};
}

} // namespace arbor::detail
