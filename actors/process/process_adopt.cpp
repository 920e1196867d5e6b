// A process actor's journal record, taking over the run a crashed daemon
// left behind, and stopping what a run left outside its process group.

#include "process_health.hpp"

#include <algorithm>
#include <csignal>

#include <unistd.h>

#include "common.hpp"
#include "event_bus.hpp"
#include "internal_messages.hpp"
#include "journal/journal.hpp"
#include "os/identity.hpp"
#include "os/proc_read.hpp"
#include "os/terminate.hpp"
#include "config/units.hpp"

namespace arbor::detail {

namespace {

using clock = std::chrono::steady_clock;

journal::instance_record record_of(const process_state& s) {
  journal::instance_record r;
  r.app = s.spec->name;
  r.index = s.index;
  r.pid = s.pid;
  r.start_time = s.pid == s.start_time_pid ? s.start_time : 0;
  r.started_unix_ms = s.pid != 0 ? s.started_wall_ms : 0;
  r.restarts = s.restarts;
  r.state = to_string(s.phase());
  r.want_up = s.fsm.want_up || s.leaving;
  r.ready = s.ready;
  r.last_exit = s.last_exit;
  r.generation = s.spawn_gen;
  return r;
}

/// The run to take over: found by its ARBOR_ID, or (a run started before
/// spawns carried one, or whose leader rewrote its environment) the
/// journal's pid if that process still lives.
struct takeover {
  pid_t pid = 0;
  uint64_t start = 0;
  uint64_t gen = 0;
  std::optional<uint64_t> spec_hash;
};

std::optional<takeover> run_to_take(const crash_survival::left_behind& left) {
  if (left.run)
    return takeover{left.run->pid, left.run->start, left.run->id.generation,
                    left.run->id.spec_hash};
  auto& r = left.record;
  if (r && r->pid > 0 && journal::same_process(r->pid, r->start_time))
    return takeover{r->pid, r->start_time, r->generation, std::nullopt};
  return std::nullopt;
}

/// How long ago a process that started at `start` (/proc ticks since boot) began.
std::chrono::milliseconds age_of(uint64_t start) {
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  auto secs = os::uptime_seconds() - static_cast<double>(start) / static_cast<double>(ticks);
  return std::chrono::milliseconds{std::max<int64_t>(0, static_cast<int64_t>(secs * 1000))};
}

} // namespace

void write_journal(process_self self) {
  auto& s = self->state;
  // A reload's replacement on trial does not speak for the instance until it
  // is accepted: were it to fail, the old run it leaves is the instance.
  if (!s.rt->survival || s.links.trial) return;
  if (s.pid != 0 && s.start_time_pid != s.pid) {
    s.start_time = journal::proc_start_time(s.pid).value_or(0);
    s.start_time_pid = s.pid;
  }
  s.rt->survival->put(record_of(s));
}

bool try_adopt(process_self self) {
  auto& s = self->state;
  if (!s.rt->survival) return false;
  auto left = s.rt->survival->take(s.id);
  if (left.record) {
    s.restarts = left.record->restarts;
    s.last_exit = left.record->last_exit;
  }
  auto run = run_to_take(left);
  // Stopped by hand, and no run newer than that stop.
  bool stopped = left.record && !left.record->want_up
                 && (!run || left.record->generation >= run->gen);
  if (!run && stopped) {
    s.fsm.want_up = false;
    s.fsm.phase = left.record->state == "failed" ? proc_state::failed : proc_state::stopped;
    s.reason = "kept " + left.record->state + " across a daemon restart";
    write_journal(self);
    return true;
  }
  if (!run) return false; // none left, or it died meanwhile: start it (counters carried)
  auto me = caf::actor_cast<caf::actor>(self);
  auto ec = s.rt->watcher.adopt(
    run->pid, [me](const os::exit_record& r) { caf::anon_send(me, make_exit_msg(r)); });
  if (ec) { // its leader died since the scan: what it left goes, as after a crash
    if (!left.cgroup.empty() && s.rt->cgroups) {
      os::run_cgroup ended;
      ended.dir = left.cgroup;
      drain_ended_run(self, std::move(ended), run->pid);
    } else {
      stop_leftovers(self, run->pid, run->gen, true);
    }
    return false;
  }
  if (s.spec->max_memory > 0) s.rt->memory.set(0, run->pid, s.links.app, s.index);
  auto up = age_of(run->start);
  s.pid = run->pid;
  s.start_time = run->start;
  s.start_time_pid = run->pid;
  s.spawn_gen = run->gen; // its record names this run (not the actor's birth)
  s.started = clock::now() - up;
  s.started_wall_ms = wall_now_ns() / 1000000 - up.count();
  s.adopted = true;
  find_adopted_cgroup(self); // its processes are the ones in it, children too
  s.reason.clear();
  fsm_step(self, instance_event::adopted,
           "still running after a daemon restart (up " + std::to_string(up.count() / 1000) + "s)");
  if (stopped) // the stop the dead daemon began
    self->send(self, stop_atom::value, reason{restart_cause::none, "stopped before the daemon restart"});
  else if (run->spec_hash && *run->spec_hash != s.spec_hash)
    restart_in_place(self, reason{restart_cause::other,
                                  "its configuration changed while no daemon ran"});
  return true;
}

void learn_adopted_exit(process_self self, child_exited& ex) {
  auto& s = self->state;
  // The watcher's "status unknown" (exit_record::unknown) comes as code -1;
  // a drain's repeat carries what the first one learned.
  if (!s.rt->keeper || ex.drained || ex.signaled || ex.code != -1) return;
  auto start = s.start_time_pid == ex.pid ? s.start_time : 0;
  if (auto r = s.rt->keeper->exit_status(ex.pid, start)) {
    ex.signaled = r->signaled;
    ex.core_dumped = r->core_dumped;
    ex.code = r->code;
    ex.description = os::describe(*r);
  }
}

void stop_leftovers(process_self self, pid_t leader, uint64_t gen, bool adopted) {
  auto& s = self->state;
  if (s.rt->home.empty()) return;
  std::vector<os::marked_process> left;
  if (adopted) {
    left = os::scan_home(s.rt->home);
  } else {
    auto watched = s.rt->watcher.pids();
    std::sort(watched.begin(), watched.end());
    left = os::children_of_generation(s.rt->home, gen, watched);
  }
  std::vector<os::proc_ref> procs;
  std::string pids;
  for (auto& p : left) {
    // The leader's group got its SIGKILL from the exit watcher already
    // (some may not have died of it yet).
    if (p.id.generation != gen || p.pgrp == leader) continue;
    procs.push_back({p.pid, p.start});
    pids += (pids.empty() ? "" : ", ") + std::to_string(p.pid);
  }
  if (procs.empty()) return;
  emit(self, event_kind::leftovers,
       std::to_string(procs.size()) + " process(es) the ended run left outside its process "
         + "group (" + pids + "): " + config::signal_name(s.spec->kill_signal) + ", SIGKILL after "
         + std::to_string(s.spec->kill_timeout.count()) + "ms");
  os::terminate(std::move(procs), s.spec->kill_signal, s.spec->kill_timeout, false);
}

} // namespace arbor::detail
