#include "readopt_plan.hpp"

#include <algorithm>
#include <set>

namespace arbor::detail {

namespace {

using group = std::vector<const os::marked_process*>;

/// The run of generation `gen`: the process arbor spawned leads its own
/// process group and its parent is not of the run (a child that left the
/// group still has the run's leader or another of its processes as parent,
/// unless that one died); the oldest of those is the one spawned first.
const os::marked_process* leader_of(const group& procs, uint64_t gen) {
  std::set<pid_t> of_gen;
  for (auto* p : procs)
    if (p->id.generation == gen) of_gen.insert(p->pid);
  const os::marked_process* best = nullptr;
  for (auto* p : procs) {
    if (p->id.generation != gen || p->pgrp != p->pid || of_gen.count(p->ppid)) continue;
    if (!best || std::tie(p->start, p->pid) < std::tie(best->start, best->pid)) best = p;
  }
  return best;
}

} // namespace

readopt_plan plan_readoption(const std::vector<os::marked_process>& found,
                             const std::map<std::string, journal::instance_record>& records,
                             const std::function<bool(const std::string&, uint32_t)>& configured) {
  readopt_plan plan;
  std::map<std::string, group> by_id;
  for (auto& p : found) {
    plan.max_generation = std::max(plan.max_generation, p.id.generation);
    by_id[p.id.app + "#" + std::to_string(p.id.index)].push_back(&p);
  }
  for (auto& [id, r] : records) plan.max_generation = std::max(plan.max_generation, r.generation);
  for (auto& [id, procs] : by_id) {
    const os::marked_process* run = nullptr;
    if (configured(procs.front()->id.app, procs.front()->id.index)) {
      uint64_t newest = 0;
      for (auto* p : procs) newest = std::max(newest, p->id.generation);
      run = leader_of(procs, newest);
      auto rec = records.find(id);
      if (run && rec != records.end() && rec->second.generation != 0) {
        const auto& r = rec->second;
        // The journal knows a newer run (it died), or knows this run's
        // leader and it is not the one found (it died): what lives is left over.
        bool newer_known = r.generation > newest;
        bool leader_died = r.generation == newest
                           && (r.pid != run->pid || (r.start_time != 0 && r.start_time != run->start));
        if (newer_known || leader_died) run = nullptr;
      }
    }
    for (auto* p : procs) {
      if (run && p->id.generation == run->id.generation) continue; // the run and its own
      plan.strays.push_back(*p);
    }
    if (run) plan.runs.emplace(id, *run);
  }
  return plan;
}

} // namespace arbor::detail
