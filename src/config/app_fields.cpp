#include "config/app_fields.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/shell_split.hpp"
#include "config/units.hpp"

namespace arbor::config {

namespace {

using nlohmann::json;
using env_list = std::vector<std::pair<std::string, std::string>>;

// The protocol's form of each member type (src/proto/PROTOCOL.md).
template <class T>
json value(const T& x) {
  return x;
}
json value(millis d) { return d.count(); }
json value(restart_policy p) { return to_string(p); }
json value(const env_list& env) {
  json j = json::object();
  for (const auto& [k, v] : env) j[k] = v;
  return j;
}
json value(const health_check_spec& h) {
  static const char* kinds[] = {"none", "http", "tcp", "exec"};
  return json{{"type", kinds[static_cast<int>(h.type)]},
              {"target", h.target},
              {"interval_ms", h.interval.count()},
              {"timeout_ms", h.timeout.count()},
              {"failures", h.failures}};
}

json value(const std::vector<listen_spec>& xs) {
  json j = json::array();
  for (const auto& x : xs) {
    json e{{"address", x.address}};
    for (auto [key, v] : {std::pair{"name", &x.name}, {"mode", &x.mode}, {"owner", &x.owner}})
      if (!v->empty()) e[key] = *v;
    j.push_back(std::move(e));
  }
  return j;
}

json value(const std::optional<int>& x) { return x ? json(*x) : json(nullptr); }

json limit_value(uint64_t v) {
  return v == rlimit_spec::unlimited ? json("unlimited") : json(v);
}

/// { nofile = 65536, core = { soft = 0, hard = "unlimited" } }
json value(const std::vector<rlimit_spec>& xs) {
  json j = json::object();
  for (const auto& x : xs)
    j[x.name] = x.soft == x.hard ? limit_value(x.soft)
                                 : json{{"soft", limit_value(x.soft)}, {"hard", limit_value(x.hard)}};
  return j;
}

/// A key backed by the value `get` reads from an app_spec.
template <class Get>
app_field field(std::string_view key, Get get, field_unit unit = field_unit::plain) {
  app_field f;
  f.key = key;
  f.unit = unit;
  f.same = [get](const app_spec& a, const app_spec& b) { return get(a) == get(b); };
  f.to_json = [get, key](const app_spec& a, json& j) { j[std::string{key}] = value(get(a)); };
  return f;
}

template <class T>
app_field member(std::string_view key, T app_spec::*m, field_unit unit = field_unit::plain) {
  return field(key, [m](const app_spec& a) -> const T& { return a.*m; }, unit);
}

template <class T>
app_field log_member(std::string_view key, T log_spec::*m, field_unit unit = field_unit::plain) {
  return field(key, [m](const app_spec& a) -> const T& { return a.log.*m; }, unit);
}

app_field optional(app_field f) {
  f.omitted_at_default = true;
  return f;
}

app_field labelled(app_field f, std::function<std::string(const app_spec&)> label) {
  f.check_label = std::move(label);
  return f;
}

/// A key read together with another one; it has no member of its own.
app_field spelling(std::string_view key) {
  app_field f;
  f.key = key;
  return f;
}

std::string health_text(const health_check_spec& h) {
  switch (h.type) {
  case health_check_spec::kind::http: return h.target;
  case health_check_spec::kind::tcp: return "tcp:" + h.target;
  case health_check_spec::kind::exec: return "exec:" + detail::shell_quote(h.target);
  case health_check_spec::kind::none: break;
  }
  return "";
}

/// A CPU quota per 100 ms as the config writes it: "50%", "150%".
std::string cpu_max_text(uint64_t quota_us) {
  auto tenths = quota_us / 100; // of a percent
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + "%";
}

std::vector<app_field> make_fields() {
  using a_ = app_spec;
  auto kill_signal = member("kill_signal", &a_::kill_signal);
  auto cpu_max = member("cpu_max", &a_::cpu_quota_us);
  cpu_max.to_json = [](const app_spec& a, json& j) { j["cpu_max"] = cpu_max_text(a.cpu_quota_us); };
  kill_signal.to_json = [](const app_spec& a, json& j) { j["kill_signal"] = signal_name(a.kill_signal); };
  auto umask = optional(member("umask", &a_::umask));
  umask.to_json = [](const app_spec& a, json& j) { j["umask"] = umask_text(a.umask); };
  // clang-format off
  return {
    member("command", &a_::command),
    member("args", &a_::argv),
    member("shell", &a_::shell),
    member("cwd", &a_::cwd),
    member("env", &a_::env),
    optional(member("env_file", &a_::env_file)),
    labelled(member("instances", &a_::instances), [](const app_spec& a) {
      return a.instances > 1 ? "×" + std::to_string(a.instances) : std::string{};
    }),
    labelled(member("restart", &a_::restart), [](const app_spec& a) {
      return std::string{"restart="} + to_string(a.restart);
    }),
    spelling("restart_on_exit"),
    member("stop_exit_codes", &a_::stop_exit_codes),
    member("max_restarts", &a_::max_restarts),
    member("min_uptime", &a_::min_uptime, field_unit::millis),
    member("restart_delay_ms", &a_::restart_delay, field_unit::millis),
    member("backoff_base_ms", &a_::backoff_base, field_unit::millis),
    member("backoff_max_ms", &a_::backoff_max, field_unit::millis),
    kill_signal,
    member("kill_timeout", &a_::kill_timeout, field_unit::millis),
    labelled(optional(member("port", &a_::port)), [](const app_spec& a) {
      return a.port ? "port=" + std::to_string(a.port) : std::string{};
    }),
    labelled(optional(member("max_memory", &a_::max_memory, field_unit::bytes)),
             [](const app_spec& a) {
      return a.max_memory ? "max_memory=" + format_size(a.max_memory) : std::string{};
    }),
    labelled(optional(member("cron_restart", &a_::cron_restart)), [](const app_spec& a) {
      if (a.cron_restart.empty()) return std::string{};
      return "cron=" + detail::shell_quote(a.cron_restart) + (a.cron_tz.empty() ? "" : " tz=" + a.cron_tz);
    }),
    optional(member("cron_tz", &a_::cron_tz)),
    labelled(optional(member("watch", &a_::watch)), [](const app_spec& a) {
      return a.watch.empty() ? "" : "watch=" + std::to_string(a.watch.size());
    }),
    optional(member("watch_ignore", &a_::watch_ignore)),
    optional(member("watch_debounce", &a_::watch_debounce, field_unit::millis)),
    labelled(optional(member("health_check", &a_::health)), [](const app_spec& a) {
      auto text = health_text(a.health);
      return text.empty() ? text : "health=" + text;
    }),
    labelled(optional(member("ready", &a_::ready)), [](const app_spec& a) {
      return a.ready.empty() ? std::string{} : "ready=" + a.ready;
    }),
    labelled(optional(member("depends_on", &a_::depends_on)), [](const app_spec& a) {
      std::string list;
      for (const auto& d : a.depends_on) list += (list.empty() ? "" : ",") + d;
      return list.empty() ? list : "depends_on=" + list;
    }),
    labelled(optional(member("listen", &a_::listen)), [](const app_spec& a) {
      std::string list;
      for (const auto& l : a.listen) list += (list.empty() ? "" : ",") + l.address;
      return list.empty() ? list : "listen=" + list;
    }),
    labelled(optional(member("memory_max", &a_::memory_max, field_unit::bytes)),
             [](const app_spec& a) {
      return a.memory_max ? "memory_max=" + format_size(a.memory_max) : std::string{};
    }),
    labelled(optional(cpu_max), [](const app_spec& a) {
      return a.cpu_quota_us ? "cpu_max=" + cpu_max_text(a.cpu_quota_us) : std::string{};
    }),
    optional(member("cpu_weight", &a_::cpu_weight)),
    optional(member("pids_max", &a_::pids_max)),
    labelled(optional(member("user", &a_::user)), [](const app_spec& a) {
      return a.user.empty() ? a.user : "user=" + a.user;
    }),
    optional(member("group", &a_::group)),
    umask,
    optional(member("rlimits", &a_::rlimits)),
    optional(member("nice", &a_::nice)),
    optional(member("oom_score_adj", &a_::oom_score_adj)),
    log_member("log_max_size", &log_spec::max_size, field_unit::bytes),
    log_member("log_max_files", &log_spec::max_files),
    optional(log_member("log_date_format", &log_spec::date_format)),
  };
  // clang-format on
}

} // namespace

std::string umask_text(int umask) {
  if (umask < 0) return {};
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(umask) & 07777u);
  return text;
}

const std::vector<app_field>& app_fields() {
  static const std::vector<app_field> fields = make_fields();
  return fields;
}

const std::vector<std::string_view>& app_keys() {
  static const std::vector<std::string_view> keys = [] {
    std::vector<std::string_view> out;
    for (const auto& f : app_fields()) out.push_back(f.key);
    return out;
  }();
  return keys;
}

bool is_app_key(std::string_view key) {
  const auto& keys = app_keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

const std::vector<std::string_view>& group_keys() {
  static const std::vector<std::string_view> keys = {"strategy", "intensity", "period"};
  return keys;
}

bool is_group_key(std::string_view key) {
  const auto& keys = group_keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

field_unit unit_of(std::string_view key) {
  if (key == "period") return field_unit::seconds;
  for (const auto& f : app_fields())
    if (f.key == key) return f.unit;
  return field_unit::plain;
}

const std::vector<std::string>& default_watch_ignore() {
  static const std::vector<std::string> globs{".git", ".hg", ".svn", "node_modules", "__pycache__",
                                              ".venv", "logs", "*.log", "*.swp", "*~", ".#*"};
  return globs;
}

std::vector<std::string_view> changed_keys(const app_spec& a, const app_spec& b) {
  std::vector<std::string_view> out;
  for (const auto& f : app_fields())
    if (f.same && !f.same(a, b)) out.push_back(f.key);
  return out;
}

uint64_t run_spec_hash(const app_spec& a) {
  auto x = a;
  x.instances = 1;
  json j = json::object();
  j["name"] = x.name;
  for (const auto& f : app_fields())
    if (f.to_json) f.to_json(x, j);
  uint64_t h = 1469598103934665603ull; // FNV-1a, 64 bits
  for (unsigned char c : j.dump()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace arbor::config
