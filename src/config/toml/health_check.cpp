// `health_check`: a URL string or a table with one of endpoint / tcp / exec,
// and the {port} / {instance} placeholders in its target.

#include <limits>

#include "config/detail.hpp"
#include "config/suggest.hpp"

namespace arbor::config::detail {

namespace {

const millis s_unit{1000};

std::string quote(std::string_view s) { return "'" + std::string{s} + "'"; }

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

/// Checks `{port}` / `{instance}` placeholders. In a URL or host:port every
/// brace must belong to one; in a command only `{name}` not preceded by '$'
/// counts as a placeholder (so `${HOME}` and awk's `{print $1}` pass).
std::optional<std::string> placeholder_error(std::string_view text, bool strict, bool& uses_port) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}' && strict) return std::string{"unmatched '}'"};
    if (text[i] != '{') continue;
    auto close = text.find('}', i);
    if (close == std::string_view::npos) {
      if (strict) return std::string{"unmatched '{'"};
      break;
    }
    auto name = text.substr(i + 1, close - i - 1);
    bool ident = !name.empty();
    for (char c : name)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
        ident = false;
    bool counts = strict || (ident && (i == 0 || text[i - 1] != '$'));
    if (counts) {
      if (name == "port") {
        uses_port = true;
      } else if (name != "instance") {
        return "unknown placeholder '{" + std::string{name}
               + "}' (only {port} and {instance} are replaced)";
      }
    }
    i = close;
  }
  return std::nullopt;
}

std::optional<std::string> url_error(std::string_view url) {
  if (url.substr(0, 8) == "https://")
    return "'" + std::string{url} + "': https is not supported for health checks, use http://";
  if (url.substr(0, 7) != "http://")
    return "'" + std::string{url} + "' is not an http:// URL";
  auto rest = url.substr(7);
  if (rest.empty() || rest.front() == '/' || rest.front() == ':')
    return "'" + std::string{url} + "' has no host";
  return std::nullopt;
}
} // namespace

const toml::node* read_health_check(context& cx, const toml::node& n, const std::string& app,
                                    health_check_spec& h) {
  std::string in_app = " in app '" + app + "'";
  if (auto s = n.as_string()) {
    h.type = health_check_spec::kind::http;
    h.target = s->get();
    if (auto err = url_error(h.target)) {
      cx.error(n, "'health_check': " + *err);
      return nullptr;
    }
    return &n;
  }
  auto table = n.as_table();
  if (!table) {
    cx.error(n, "'health_check' must be an http:// URL or a table, got " + std::string{type_name(n)});
    return nullptr;
  }
  static const std::vector<std::string_view> health_keys = {
    "endpoint", "tcp", "exec", "interval_secs", "timeout_secs", "failures", "start_period"};
  const toml::node* target = nullptr;
  bool target_ok = false;
  for (const auto& e : in_file_order(*table)) {
    const auto& v = *e.value;
    if (e.key == "endpoint" || e.key == "tcp" || e.key == "exec") {
      if (target) {
        cx.error(v, "'health_check' takes only one of 'endpoint', 'tcp' or 'exec'" + in_app);
        continue;
      }
      target = &v;
      auto key = "health_check." + std::string{e.key};
      auto s = get_string(cx, v, key);
      if (!s) continue;
      h.target = *s;
      std::optional<std::string> err;
      if (e.key == "endpoint") {
        h.type = health_check_spec::kind::http;
        err = url_error(*s);
      } else if (e.key == "tcp") {
        h.type = health_check_spec::kind::tcp;
        err = host_port_error(*s, true);
      } else {
        h.type = health_check_spec::kind::exec;
        if (blank(*s)) err = "empty command";
      }
      if (err)
        cx.error(v, quote(key) + ": " + *err);
      else
        target_ok = true;
    } else if (e.key == "interval_secs" || e.key == "timeout_secs") {
      auto key = "health_check." + std::string{e.key};
      auto d = get_duration(cx, v, key, s_unit);
      if (d && d->count() == 0)
        cx.error(v, quote(key) + " must be greater than 0");
      else if (d)
        (e.key == "interval_secs" ? h.interval : h.timeout) = *d;
    } else if (e.key == "start_period") {
      if (auto d = get_duration(cx, v, "health_check.start_period", s_unit)) h.start_period = *d;
    } else if (e.key == "failures") {
      if (auto i = get_integer(cx, v, "health_check.failures", 1, std::numeric_limits<uint32_t>::max()))
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
  return target_ok ? target : nullptr;
}

void check_health_placeholders(context& cx, const toml::node& at, const app_spec& app) {
  bool uses_port = false;
  bool strict = app.health.type != health_check_spec::kind::exec;
  if (auto err = placeholder_error(app.health.target, strict, uses_port)) {
    cx.error(at, "'health_check': " + *err);
  } else if (uses_port && app.port == 0) {
    cx.error(at, "'health_check' uses {port} but app '" + app.name + "' has no 'port'");
  }
}

} // namespace arbor::config::detail
