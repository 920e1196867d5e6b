#include "control_json.hpp"

#include <ctime>

#include "config/targets.hpp"
#include "config/units.hpp"

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
  return j;
}

json node_json(const node_status& n, const group_spec& root) {
  json j{{"name", n.name}, {"state", n.state}};
  if (!n.reason.empty()) j["reason"] = n.reason;
  if (n.is_group) {
    j["kind"] = "group";
    j["strategy"] = n.strategy;
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
              {"event", e.what},
              {"offender", e.offender},
              {"reason", e.reason},
              {"pid", e.pid},
              {"state", to_string(e.state)}};
}

json spec_json(const app_spec& a) {
  json j{{"command", a.command},
         {"args", a.argv},
         {"shell", a.shell},
         {"cwd", a.cwd},
         {"instances", a.instances},
         {"restart", to_string(a.restart)},
         {"stop_exit_codes", a.stop_exit_codes},
         {"max_restarts", a.max_restarts},
         {"min_uptime", a.min_uptime.count()},
         {"restart_delay_ms", a.restart_delay.count()},
         {"backoff_base_ms", a.backoff_base.count()},
         {"backoff_max_ms", a.backoff_max.count()},
         {"kill_signal", config::signal_name(a.kill_signal)},
         {"kill_timeout", a.kill_timeout.count()},
         {"log_max_size", a.log.max_size},
         {"log_max_files", a.log.max_files}};
  json env = json::object();
  for (auto& [k, v] : a.env) env[k] = v;
  j["env"] = env;
  if (!a.env_file.empty()) j["env_file"] = a.env_file;
  if (a.max_memory) j["max_memory"] = a.max_memory;
  if (!a.cron_restart.empty()) j["cron_restart"] = a.cron_restart;
  if (!a.cron_tz.empty()) j["cron_tz"] = a.cron_tz;
  if (a.port) j["port"] = a.port;
  if (!a.ready.empty()) j["ready"] = a.ready;
  if (!a.depends_on.empty()) j["depends_on"] = a.depends_on;
  if (!a.log.date_format.empty()) j["log_date_format"] = a.log.date_format;
  if (a.health.type != health_check_spec::kind::none) {
    static const char* kinds[] = {"none", "http", "tcp", "exec"};
    j["health_check"] = json{{"type", kinds[static_cast<int>(a.health.type)]},
                             {"target", a.health.target},
                             {"interval_ms", a.health.interval.count()},
                             {"timeout_ms", a.health.timeout.count()},
                             {"failures", a.health.failures}};
  }
  return j;
}

json spec_json(const group_spec& g) {
  json j{{"strategy", to_string(g.strategy)}, {"period", g.period.count()}};
  j["intensity"] = g.intensity ? json(*g.intensity) : json(nullptr);
  j["children"] = json::array();
  for (auto& c : g.children) j["children"].push_back(c.name());
  return j;
}

json report_json(const apply_report& r) {
  return json{{"added", r.added},
              {"removed", r.removed},
              {"changed", r.changed},
              {"scaled", r.scaled},
              {"unchanged", r.unchanged}};
}

} // namespace arbor::detail
