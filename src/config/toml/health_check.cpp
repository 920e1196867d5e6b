// `health_check`: a URL string or a table with one of endpoint / tcp / exec.
// The target's form, placeholders and timing are validate()'s rules.

#include <algorithm>
#include <limits>

#include "config/detail.hpp"
#include "config/suggest.hpp"

namespace arbor::config::detail {

namespace {

const millis s_unit{1000};

std::string quote(std::string_view s) { return "'" + std::string{s} + "'"; }

} // namespace

void read_health_check(context& cx, const toml::node& n, app_spec& app) {
  auto& h = app.health;
  std::string in_app = " in app '" + app.name + "'";
  if (auto s = n.as_string()) {
    h.type = health_check_spec::kind::http;
    h.target = s->get();
    return;
  }
  auto table = n.as_table();
  if (!table) {
    cx.error(n, "'health_check' must be an http:// URL or a table, got " + std::string{type_name(n)});
    return;
  }
  static const std::vector<std::string_view> health_keys = {
    "endpoint", "tcp", "exec", "interval_secs", "timeout_secs", "failures", "start_period"};
  const toml::node* target = nullptr;
  for (const auto& e : in_file_order(*table)) {
    const auto& v = *e.value;
    auto key = "health_check." + std::string{e.key};
    if (std::find(health_keys.begin(), health_keys.end(), e.key) != health_keys.end())
      app.key_where.emplace_back(key, cx.pos(v.source()));
    if (e.key == "endpoint" || e.key == "tcp" || e.key == "exec") {
      if (target) {
        cx.error(v, "'health_check' takes only one of 'endpoint', 'tcp' or 'exec'" + in_app);
        continue;
      }
      target = &v;
      auto s = get_string(cx, v, key);
      if (!s) continue;
      h.target = *s;
      h.type = e.key == "endpoint" ? health_check_spec::kind::http
               : e.key == "tcp"    ? health_check_spec::kind::tcp
                                   : health_check_spec::kind::exec;
    } else if (e.key == "interval_secs" || e.key == "timeout_secs") {
      if (auto d = get_duration(cx, v, key, s_unit))
        (e.key == "interval_secs" ? h.interval : h.timeout) = *d;
    } else if (e.key == "start_period") {
      if (auto d = get_duration(cx, v, key, s_unit)) h.start_period = *d;
    } else if (e.key == "failures") {
      if (auto i = get_integer(cx, v, key, 1, std::numeric_limits<uint32_t>::max()))
        h.failures = static_cast<uint32_t>(*i);
    } else {
      cx.error(e.key_source(), "unknown key " + quote(e.key) + " in 'health_check'" + in_app
                                 + did_you_mean(e.key, health_keys));
    }
  }
  if (!target) {
    cx.error(n, "'health_check' needs one of 'endpoint' (http:// URL), 'tcp' (\"host:port\") or "
                "'exec' (a command)" + in_app);
  }
}

} // namespace arbor::config::detail
