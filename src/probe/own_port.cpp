#include "probe/own_port.hpp"

#include <chrono>

#include "os/socket_table.hpp"
#include "probe/prober.hpp"

namespace arbor::probe {

namespace {

bool same_home(const os::socket_holder& h, const port_owner& o) {
  return h.id && h.id->home == o.home;
}

std::string where(const own_port_rule& r) {
  bool v6 = r.host.find(':') != std::string::npos;
  return (v6 ? "[" + r.host + "]" : r.host) + ":" + std::to_string(r.port);
}

} // namespace

port_verdict classify(const std::vector<os::socket_holder>& holders, const port_owner& owner,
                      std::string* who) {
  const os::socket_holder* sibling = nullptr;
  for (const auto& h : holders) {
    if ((owner.leader > 0 && h.pgrp == owner.leader) || (same_home(h, owner) && h.id->generation == owner.generation))
      return port_verdict::mine;
    if (!sibling && same_home(h, owner) && h.id->app == owner.app) sibling = &h;
  }
  if (!sibling) return port_verdict::others;
  if (who)
    *who = sibling->id->app + "#" + std::to_string(sibling->id->index) + " (pid "
           + std::to_string(sibling->pid) + ")";
  return port_verdict::siblings;
}

probe_result check_own_port(const health_check_spec& spec, uint16_t port, uint32_t instance,
                            const own_port_rule& rule) {
  auto start = std::chrono::steady_clock::now();
  auto inodes = os::inodes_on(os::read_listening(), rule.host, rule.port);
  std::string who;
  // The run's leader listening itself (most apps) needs no walk of /proc.
  bool leader_listens = rule.owner.leader > 0 && !inodes.empty()
                        && !os::held_sockets(rule.owner.leader, inodes).empty();
  auto verdict = leader_listens ? port_verdict::mine
                                : classify(os::socket_holders(inodes), rule.owner, &who);
  if (verdict == port_verdict::siblings) {
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
    return probe_result{false,
                        "not listening yet: " + where(rule) + " is served by " + who
                          + ", not by this instance",
                        took};
  }
  auto r = run_check(spec, port, instance);
  if (r.ok && verdict == port_verdict::mine) r.detail += " (this instance listens on " + where(rule) + ")";
  return r;
}

} // namespace arbor::probe
