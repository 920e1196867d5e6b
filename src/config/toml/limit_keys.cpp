// The hard limits of an app's runs with a syntax of their own: memory_max
// and cpu_max (applied through cgroups: os/cgroup_limits.hpp).

#include <cmath>
#include <cstdlib>

#include "config/detail.hpp"
#include "os/cgroup_limits.hpp"

namespace arbor::config::detail {

namespace {

/// "50%", "1.5" or 1.5 (CPUs) as microseconds of CPU per 100 ms; 0 when bad.
uint64_t parse_cpu_max(const toml::node& n, std::string& shown) {
  double cpus = 0;
  if (auto s = n.as_string()) {
    shown = s->get();
    const char* text = shown.c_str();
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text) return 0;
    if (*end == '%' && end[1] == '\0') cpus = v / 100;
    else if (*end == '\0') cpus = v;
    else return 0;
  } else if (auto d = n.as_floating_point()) {
    cpus = d->get();
    shown = std::to_string(cpus);
  } else if (auto i = n.as_integer()) {
    cpus = static_cast<double>(i->get());
    shown = std::to_string(i->get());
  } else {
    return 0;
  }
  // The kernel's least quota is 1 ms per period; a thousand CPUs is no limit.
  if (!std::isfinite(cpus) || cpus < 0.01 || cpus > 1000) return 0;
  return static_cast<uint64_t>(std::llround(cpus * os::cpu_period_us));
}

} // namespace

void read_memory_max(context& cx, const toml::node& n, app_spec& app) {
  auto v = get_size(cx, n, "memory_max");
  if (v && *v < (1u << 20))
    cx.error(n, "'memory_max' must be at least 1M (a hard limit the app could not start under)");
  else if (v)
    app.memory_max = *v;
}

void read_cpu_max(context& cx, const toml::node& n, app_spec& app) {
  std::string shown;
  auto quota = parse_cpu_max(n, shown);
  if (quota == 0)
    cx.error(n, "'cpu_max' must be a share of one CPU (\"50%\") or a number of CPUs (\"1.5\", "
                "1.5) between 1% and 1000 CPUs, got " + (shown.empty() ? type_name(n) : "'" + shown + "'"));
  else
    app.cpu_quota_us = quota;
}

} // namespace arbor::config::detail
