#include "config/ready_rule.hpp"

#include "config/units.hpp"

namespace arbor::config {

namespace {

bool has_placeholder(const std::string& s, const char* name) {
  return s.find(std::string{"{"} + name + "}") != std::string::npos;
}

/// "host:port" or "[v6]:port" (what follows http:// up to the path, or a
/// tcp target); `port` is kept when the text has none.
bool split_authority(const std::string& a, std::string& host, uint16_t& port) {
  std::string digits;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string::npos) return false;
    host = a.substr(1, close - 1);
    if (close + 1 < a.size()) {
      if (a[close + 1] != ':') return false;
      digits = a.substr(close + 2);
    }
  } else {
    auto colon = a.rfind(':');
    if (colon != std::string::npos && a.find(':') != colon) return false; // bare v6
    host = a.substr(0, colon);
    if (colon != std::string::npos) digits = a.substr(colon + 1);
  }
  if (host.empty()) return false;
  if (digits.empty()) return port != 0;
  uint32_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || n > 65535) return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535) return false;
  port = static_cast<uint16_t>(n);
  return true;
}

std::string host_port(const fixed_port& f) {
  bool v6 = f.host.find(':') != std::string::npos;
  return (v6 ? "[" + f.host + "]" : f.host) + ":" + std::to_string(f.port);
}

std::string check_words(const health_check_spec& h) {
  switch (h.type) {
  case health_check_spec::kind::http: return "health check " + h.target + " passes";
  case health_check_spec::kind::tcp: return "health check tcp " + h.target + " connects";
  case health_check_spec::kind::exec: return "health check `" + h.target + "` exits 0";
  case health_check_spec::kind::none: break;
  }
  return "";
}

/// Whether `f`'s port is one of the app's `listen` TCP ports: arbor's
/// socket, which every run of the app holds.
bool on_listen_socket(const app_spec& a, const fixed_port& f) {
  for (const auto& l : a.listen) {
    if (l.address.rfind("unix:", 0) == 0) continue;
    const auto colon = l.address.rfind(':');
    if (colon != std::string::npos && l.address.substr(colon + 1) == std::to_string(f.port))
      return true;
  }
  return false;
}

} // namespace

std::optional<fixed_port> fixed_port_of(const health_check_spec& h) {
  if (h.type != health_check_spec::kind::http && h.type != health_check_spec::kind::tcp)
    return std::nullopt;
  if (has_placeholder(h.target, "port")) return std::nullopt;
  fixed_port f;
  std::string authority = h.target;
  if (h.type == health_check_spec::kind::http) {
    static const std::string scheme = "http://";
    if (h.target.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
    authority = h.target.substr(scheme.size());
    authority = authority.substr(0, authority.find_first_of("/?#"));
    f.port = 80;
  }
  if (!split_authority(authority, f.host, f.port)) return std::nullopt;
  return f;
}

std::string ready_rule(const app_spec& a) {
  if (a.ready == "notify") return "READY=1 from the app (sd_notify)";
  if (a.health.type == health_check_spec::kind::none) {
    if (a.min_uptime.count() <= 0) return "immediately";
    return "running for min_uptime " + format_duration(a.min_uptime);
  }
  auto words = check_words(a.health);
  auto f = fixed_port_of(a.health);
  if (f && on_listen_socket(a, *f))
    return words + " (on arbor's socket " + host_port(*f) + ", which every run holds)";
  if (f)
    return words + " and this instance listens on " + host_port(*f)
           + " (while other runs of " + a.name + " serve that port)";
  bool per_port = has_placeholder(a.health.target, "port");
  bool per_instance = has_placeholder(a.health.target, "instance");
  if (per_port) return words + " (per-instance port {port})";
  if (per_instance) return words + " (per-instance {instance})";
  return words;
}

std::vector<std::string> ready_warnings(const app_spec& a) {
  std::vector<std::string> out;
  const auto& h = a.health;
  if (h.type == health_check_spec::kind::none) return out;
  auto f = fixed_port_of(h);
  if (f && on_listen_socket(a, *f))
    out.push_back("the health check targets " + host_port(*f) + ", the app's own listen socket: "
                  + "every run holds it, so a sibling or the run being replaced can answer for a "
                  + "new one; give each run a check port of its own ({port}) or ready = \"notify\"");
  else if (f && a.port != 0)
    out.push_back("the health check targets " + host_port(*f) + " whatever PORT a run gets ("
                  + std::to_string(a.port) + " and up; a reload's replacement maybe a temporary one): a run "
                  + "that serves only its $PORT is never ready while another run holds "
                  + std::to_string(f->port) + "; write {port} if the check is meant for $PORT");
  bool same_for_all = !has_placeholder(h.target, "port") && !has_placeholder(h.target, "instance");
  if (h.type == health_check_spec::kind::exec && same_for_all && a.instances > 1)
    out.push_back("the exec health check is the same command for all " + std::to_string(a.instances)
                  + " instances: it cannot tell them apart (write {port} or {instance} in it)");
  return out;
}

} // namespace arbor::config
