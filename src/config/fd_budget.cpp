#include "config/fd_budget.hpp"

namespace arbor::config {

namespace {

void add_group(const group_spec& g, fd_need& need) {
  for (const auto& c : g.children) {
    if (c.type == node_spec::kind::group) {
      add_group(c.group, need);
      continue;
    }
    need.instances += c.app.instances;
    need.for_instances += c.app.instances * fds_of_instance(c.app);
    need.besides += fds_per_app + c.app.listen.size(); // the daemon holds each socket
  }
}

/// 50106 -> "50,106".
std::string grouped(uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

} // namespace

uint64_t fds_of_instance(const app_spec& app) {
  uint64_t n = fds_per_instance;
  if (app.ready == "notify") ++n;
  if (app.health.type != health_check_spec::kind::none) ++n;
  return n;
}

fd_need descriptors_needed(const group_spec& root) {
  fd_need need;
  need.besides = daemon_fds + fd_reserve;
  add_group(root, need);
  return need;
}

std::string fd_refusal(const fd_need& need, uint64_t limit, const std::string& limit_name) {
  if (need.total() <= limit) return {};
  bool uniform = need.instances > 0 && need.for_instances == need.instances * fds_per_instance;
  auto parts = grouped(need.instances) + " instance" + (need.instances == 1 ? "" : "s")
               + (uniform ? " × " + std::to_string(fds_per_instance)
                          : ": " + grouped(need.for_instances))
               + " + " + grouped(need.besides) + " besides";
  return "this tree needs ~" + grouped(need.total()) + " descriptors (" + parts + "), "
         + limit_name + " is " + grouped(limit)
         + ": raise it (LimitNOFILE= in the systemd unit, `ulimit -n`, `prlimit`) or run fewer "
           "instances";
}

} // namespace arbor::config
