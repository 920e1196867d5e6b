// The rules of an app's health check: the target's form for its kind, the
// {port} / {instance} placeholders in it, and its timing.

#include <limits>

#include "config/validate.hpp"

namespace arbor::config::detail {

namespace {

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

/// The key the target was written under: the `health_check` string itself,
/// or its table's `endpoint`, `tcp` or `exec`.
std::string target_key(const app_spec& app) {
  switch (app.health.type) {
  case health_check_spec::kind::tcp: return "health_check.tcp";
  case health_check_spec::kind::exec: return "health_check.exec";
  default:
    return written(app.key_where, "health_check.endpoint") ? "health_check.endpoint"
                                                           : "health_check";
  }
}

std::optional<std::string> target_error(const health_check_spec& h) {
  switch (h.type) {
  case health_check_spec::kind::http: return url_error(h.target);
  case health_check_spec::kind::tcp: return host_port_error(h.target, true);
  case health_check_spec::kind::exec:
    if (blank(h.target)) return std::string{"empty command"};
    return std::nullopt;
  default: return std::nullopt;
  }
}

} // namespace

void check_health(const app_spec& app, std::vector<diagnostic>& errors) {
  const auto& h = app.health;
  if (h.type == health_check_spec::kind::none) return;
  auto key = target_key(app);
  auto at = app.where_of(key);
  bool uses_port = false;
  bool strict = h.type != health_check_spec::kind::exec;
  if (auto err = target_error(h))
    errors.push_back({at, "'" + key + "': " + *err});
  else if (auto perr = placeholder_error(h.target, strict, uses_port))
    errors.push_back({at, "'health_check': " + *perr});
  else if (uses_port && app.port == 0)
    errors.push_back({at, "'health_check' uses {port} but app '" + app.name + "' has no 'port'"});
  for (auto [name, d] : {std::pair{"interval_secs", h.interval}, {"timeout_secs", h.timeout}}) {
    auto k = std::string{"health_check."} + name;
    if (d.count() <= 0) errors.push_back({app.where_of(k), "'" + k + "' must be greater than 0"});
  }
  if (h.failures < 1)
    errors.push_back({app.where_of("health_check.failures"),
                      range_message("health_check.failures", 1,
                                    std::numeric_limits<uint32_t>::max(), h.failures)});
}

std::optional<std::string> host_port_error(std::string_view text, bool allow_port_placeholder) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return "'" + std::string{text} + "' is not \"host:port\"";
  auto port = text.substr(colon + 1);
  if (allow_port_placeholder && port == "{port}") return std::nullopt;
  uint32_t n = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || n > 65535) return "'" + std::string{port} + "' is not a port number";
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535) return "port " + std::string{port} + " is out of range 1-65535";
  return std::nullopt;
}

} // namespace arbor::config::detail
