// A process actor's containment: its runs' cgroups (os/cgroup_tree.hpp),
// made at each spawn with the app's limits, signalled and killed whole at a
// stop, waited for until empty, and drained of what an ended run left.

#include "process_health.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "config/units.hpp"

namespace arbor::detail {

namespace {

using clock = std::chrono::steady_clock;

os::cgroup_limits limits_of(const app_spec& a) {
  os::cgroup_limits l;
  l.memory_max = a.memory_max;
  l.cpu_quota_us = a.cpu_quota_us;
  l.cpu_weight = a.cpu_weight;
  l.pids_max = a.pids_max;
  return l;
}

} // namespace

os::spawn_result spawn_contained(process_self self) {
  auto& s = self->state;
  auto* cgroups = s.rt->cgroups.get();
  const auto limits = limits_of(*s.spec);
  if (!cgroups) {
    if (limits.any()) {
      os::spawn_result r;
      r.error = ENOTSUP;
      r.what = "memory_max, cpu_max, cpu_weight and pids_max need cgroups, which arbor cannot "
               "use here (" + s.rt->containment_note + "; `arbor doctor` says why)";
      return r;
    }
    return s.plan->spawn(s.out_fd, s.err_fd);
  }
  os::spawn_result r;
  int dir_fd = -1;
  if (!s.spare.empty()) { // the previous run's, empty: the kernel's cheap way in
    dir_fd = ::open(s.spare.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      s.cg = std::move(s.spare);
      cgroups->rejoin(s.cg);
    } else { // gone meanwhile: a fresh one
      cgroups->retire(std::move(s.spare), clock::now());
    }
    s.spare = {};
  }
  errno = 0;
  if (dir_fd < 0) {
    r.what = cgroups->make_run(s.spec->name, s.index, s.spawn_gen, limits, s.cg);
    if (r.what.empty()) {
      dir_fd = ::open(s.cg.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd < 0) r.what = "cannot open the cgroup " + s.cg.dir + ": " + std::strerror(errno);
    }
  }
  if (!r.what.empty()) {
    // No descriptor for a cgroup file now is retried like a spawn's EMFILE;
    // anything else (a missing controller, a refused write) fails the app.
    r.error = os::transient_spawn_error(errno) ? errno : ENOTSUP;
    cgroups->retire(std::move(s.cg), clock::now());
    s.cg = {};
    return r;
  }
  os::spawn_cgroup where;
  where.dir_fd = dir_fd;
  where.join = s.cg.join.empty() ? nullptr : s.cg.join_ptrs.data();
  r = s.plan->spawn(s.out_fd, s.err_fd, &where);
  ::close(dir_fd);
  s.cg.join.clear(); // the child has joined: nothing points into them any more
  s.cg.join_ptrs.clear();
  if (!r.ok()) {
    cgroups->retire(std::move(s.cg), clock::now());
    s.cg = {};
  }
  return r;
}

void signal_run(process_self self, int sig) {
  auto& s = self->state;
  if (s.rt->cgroups && !s.cg.empty()) s.rt->cgroups->signal(s.cg, sig);
  os::signal_group(s.pid, sig); // the leader's group too: a cgroup read may miss a fork in flight
}

void kill_run(process_self self) {
  auto& s = self->state;
  if (s.rt->cgroups && !s.cg.empty()) s.rt->cgroups->kill(s.cg);
  os::signal_group(s.pid, SIGKILL);
}

bool end_contained_run(process_self self, child_exited& ex, restart_cause& cause,
                       os::run_cgroup& ended) {
  auto& s = self->state;
  auto* cgroups = s.rt->cgroups.get();
  if (!cgroups || s.cg.empty()) return true;
  if (s.spec->memory_max > 0 && ex.signaled && cgroups->oom_kills(s.cg) > 0) {
    cause = restart_cause::oom;
    ex.description = "oom: killed by the kernel over memory_max "
                     + config::format_size(s.spec->memory_max) + " (" + ex.description + ")";
  }
  if (ex.drained) { // the drain has it (and removed it)
    s.cg = {};
    return true;
  }
  ended = std::move(s.cg);
  s.cg = {};
  const bool stopping = s.phase() == proc_state::stopping;
  if (!cgroups->populated(ended)) {
    // Nothing left: the next run (a restart is spawned next) takes it over.
    if (!stopping && ended.v1.empty()) {
      cgroups->retire(std::move(s.spare), clock::now());
      s.spare = std::move(ended);
      ended = {};
    }
    return true;
  }
  if (!stopping) return true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto again = ex;
  again.drained = true;
  s.cg = ended; // kill_run still reaches them while the stop waits
  cgroups->retire(std::move(ended), s.kill_at, [me, again] { caf::anon_send(me, again); });
  ended = {};
  return false;
}

void drain_ended_run(process_self self, os::run_cgroup ended, pid_t leader) {
  auto& s = self->state;
  if (ended.empty()) return;
  auto* cgroups = s.rt->cgroups.get();
  if (auto left = cgroups->procs(ended).size(); left > 0) {
    emit(self, event_kind::leftovers,
         std::to_string(left) + " process(es) the ended run left in its cgroup: "
           + config::signal_name(s.spec->kill_signal) + ", SIGKILL after "
           + std::to_string(s.spec->kill_timeout.count()) + "ms",
         leader);
    cgroups->signal(ended, s.spec->kill_signal);
  }
  cgroups->retire(std::move(ended), clock::now() + s.spec->kill_timeout);
}

void find_adopted_cgroup(process_self self) {
  auto& s = self->state;
  if (s.rt->cgroups) s.rt->cgroups->find_run_of(s.pid, limits_of(*s.spec), s.cg);
}

} // namespace arbor::detail
