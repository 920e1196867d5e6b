#include "process_actor.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.hpp"
#include "config/app_fields.hpp"
#include "event_bus.hpp"
#include "process_health.hpp"

namespace arbor::detail {

using self_ptr = caf::stateful_actor<process_state>*;
using clock = std::chrono::steady_clock;
using ev = instance_event;

void emit(self_ptr self, event_kind what, std::string reason, int32_t pid, restart_cause cause) {
  auto& s = self->state;
  event e;
  e.at_ns = wall_now_ns();
  e.supervisor = s.spec->name;
  e.what = what;
  e.offender = s.id;
  e.reason = std::move(reason);
  e.pid = pid >= 0 ? pid : s.pid;
  e.state = s.phase();
  e.cause = cause;
  self->send(s.rt->bus, std::move(e));
}

child_exited make_exit_msg(const os::exit_record& r) {
  child_exited m;
  m.pid = r.pid;
  m.signaled = r.signaled;
  m.core_dumped = r.core_dumped;
  m.code = r.code;
  m.at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(r.at.time_since_epoch()).count();
  m.description = os::describe(r);
  return m;
}

namespace {

/// What the step being carried out came from, for its events and reports.
struct step_context {
  const child_exited* exit = nullptr; ///< the run that ended, if any
  reason why;                         ///< of a restart (text "" = none to tell)
};

void step(self_ptr self, ev e, step_context ctx = {});

/// Sets the instance's pid, keeping the memory registry in step.
void set_pid(process_state& s, int32_t pid) {
  if (s.spec->max_memory > 0) s.rt->memory.set(s.pid, pid, s.links.app, s.index);
  s.pid = pid;
}

std::chrono::milliseconds uptime_of(const process_state& s, int64_t at_ns) {
  auto at = clock::time_point{std::chrono::nanoseconds{at_ns}};
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - s.started);
}

/// The tracker's verdict on a run that ended, as the machine's event; sets
/// the pending delay and the reason the coming restart or stay-down carries.
ev judge(self_ptr self, const run_facts& run, const std::string& desc, bool spawn_retry,
         restart_cause exit_cause = restart_cause::crash) {
  auto& s = self->state;
  if (s.links.trial) {
    s.reason = "a reload's replacement ended before it was ready";
    return ev::exit_stay_down;
  }
  auto d = s.tracker->on_exit(run);
  using verdict = restart_decision::verdict;
  s.pending_delay = d.delay;
  if (d.what != verdict::restart) {
    s.reason = d.reason;
    return d.what == verdict::stay_down ? ev::exit_stay_down : ev::exit_give_up;
  }
  if (spawn_retry && s.pending_delay.count() == 0) // never retry a failed spawn in a loop
    s.pending_delay = std::max(s.spec->backoff_base, std::chrono::milliseconds{100});
  auto cause = spawn_retry ? restart_cause::other : exit_cause;
  if (s.pending_delay.count() == 0) {
    s.pending_why = {cause, desc};
    return ev::exit_restart;
  }
  s.pending_why.cause = cause;
  s.pending_why.text = (d.crash_loop ? "crash loop: " + std::to_string(s.tracker->short_runs())
                                    + " consecutive runs shorter than min_uptime, "
                                : desc + ", ")
                  + "restart in " + std::to_string(s.pending_delay.count()) + "ms";
  return ev::exit_backoff;
}

/// Spawns a run now: the hot path of every restart. Returns what became of
/// it for the machine: spawned, spawn_failed (why in `reason`), or an exit
/// verdict for a spawn or watch the system could not make for want of
/// processes, memory or descriptors (what it said in `retry_what`).
ev spawn_run(self_ptr self, std::string& retry_what) {
  auto& s = self->state;
  if (!s.plan) {
    if (auto err = build_plan(self); !err.empty()) {
      s.reason = std::move(err);
      return ev::spawn_failed;
    }
  }
  open_logs(self);
  s.spawn_gen = s.rt->next_generation();
  s.plan->set_generation(s.spawn_gen);
  auto r = spawn_contained(self);
  if (!r.ok()) {
    if (os::transient_spawn_error(r.error)) {
      retry_what = r.what;
      return judge(self, {false, 255, {}}, "spawn: " + r.what, true);
    }
    s.reason = r.what;
    return ev::spawn_failed;
  }
  set_pid(s, r.pid);
  s.started = clock::now();
  s.started_wall_ms = wall_now_ns() / 1000000;
  auto me = caf::actor_cast<caf::actor>(self);
  auto ec = s.rt->watcher.watch(
    r.pid, [me](const os::exit_record& rec) { caf::anon_send(me, make_exit_msg(rec)); });
  if (ec) {
    // Unwatchable means unsupervised: never leave it running.
    kill_run(self);
    os::signal_group(r.pid, SIGKILL);
    ::waitpid(r.pid, nullptr, 0); // ours and unwatched: reap it here (it is dying)
    set_pid(s, 0);
    auto what = "cannot watch pid " + std::to_string(r.pid) + ": " + ec.message();
    if (os::transient_spawn_error(ec.value())) { // no descriptor for its pidfd now
      retry_what = what;
      return judge(self, {false, 255, {}}, what, true);
    }
    s.reason = std::move(what);
    return ev::spawn_failed;
  }
  s.adopted = false;
  s.reason.clear();
  return ev::spawned;
}

/// Tells the group of a restart event: a request it answers with whether the
/// restart may go ahead. Its answer matters only when it counts first.
void tell_group(self_ptr self, bool gave_up, std::string reason, bool wait_for_word) {
  auto& s = self->state;
  if (s.links.trial || !s.links.group) return;
  auto gen = s.gen;
  self->request(s.links.group, std::chrono::seconds(10),
                child_event{s.spec->name, gave_up, std::move(reason)})
    .then(
      [self, gen, wait_for_word](bool ok) {
        if (wait_for_word && gen == self->state.gen)
          step(self, ok && self->state.fsm.want_up ? ev::group_allowed : ev::group_refused);
      },
      [self, gen, wait_for_word](caf::error&) {
        // The group is gone or busy: the instance decides alone.
        if (wait_for_word && gen == self->state.gen) step(self, ev::group_allowed);
      });
}

bool is_exit_verdict(ev e) {
  return e == ev::exit_restart || e == ev::exit_backoff || e == ev::exit_stay_down
         || e == ev::exit_give_up;
}

/// The events of a step, in causal order, and the app supervisor's notice
/// of a run that ended.
void announce(self_ptr self, proc_state before, ev e, const step_context& ctx) {
  auto& s = self->state;
  if (ctx.exit) {
    bool stopped = e == ev::exit_stopped;
    emit(self, stopped ? event_kind::stopped : event_kind::child_exited,
         stopped ? s.last_exit : ctx.exit->description, ctx.exit->pid);
    if (!stopped) // a run that ended unasked
      self->send(s.links.app, run_ended{s.index, ctx.exit->signaled, ctx.exit->code,
                                     uptime_of(s, ctx.exit->at_ns).count(),
                                     ctx.exit->description});
  } else if (is_exit_verdict(e) && before == proc_state::starting) {
    emit(self, event_kind::spawn_retry, ctx.why.text);
  }
  switch (e) {
    case ev::stop:
      if (before != proc_state::stopped && s.phase() == proc_state::stopped)
        emit(self, event_kind::stopped,
             s.stop_why.text.empty() ? "stop requested" : s.stop_why.text);
      break;
    case ev::spawned:
      if (!ctx.why.text.empty())
        emit(self, event_kind::restarting, ctx.why.text, -1, ctx.why.cause);
      emit(self, event_kind::child_started);
      begin_run(self);
      break;
    case ev::adopted:
      emit(self, event_kind::adopted, ctx.why.text);
      begin_run(self);
      break;
    case ev::exit_backoff:
    case ev::group_allowed:
      if (s.phase() == proc_state::backoff) {
        s.reason = s.pending_why.text;
        emit(self, event_kind::backoff, s.reason, -1, s.pending_why.cause);
      }
      break;
    case ev::exit_stay_down:
      emit(self, event_kind::stays_down, s.reason);
      break;
    case ev::exit_give_up:
      emit(self, event_kind::gave_up, s.reason);
      break;
    case ev::spawn_failed:
      s.plan.reset(); // a later start resolves the command again
      self->send(s.links.app, spawn_failed{s.index, s.reason});
      emit(self, event_kind::spawn_failed, s.reason);
      break;
    default:
      break;
  }
}

/// The reason a spawn of this step is reported with ("" = no `restarting`).
reason restart_reason(const process_state& s, ev e, const step_context& ctx) {
  switch (e) {
    case ev::exit_restart:
    case ev::group_allowed: return s.pending_why;
    case ev::exit_stopped: return s.stop_why;
    case ev::start: return ctx.why;
    default: return {};
  }
}

/// Runs one transition of the machine and carries out its actions: the
/// process first (the spawn is the hot path), then the events, the stop
/// waiters, the timers and the group.
void step(self_ptr self, ev e, step_context ctx) {
  auto& s = self->state;
  auto before = s.phase();
  auto st = transition(s.fsm, e);
  if (!st.handled) return;
  s.fsm = st.next;
  if (st.next.phase != before) ++s.gen; // timers and answers of the old phase are stale
  auto a = st.actions;
  if (a & act_signal) {
    end_run(self);
    s.kill_at = clock::now() + s.spec->kill_timeout;
    signal_run(self, s.spec->kill_signal);
    emit(self, event_kind::stopping, s.stop_why.text);
    self->delayed_send(self, s.spec->kill_timeout, kill_atom::value, s.gen);
  }
  if (a & act_sigkill) {
    kill_run(self);
    emit(self, event_kind::killed,
         "kill_timeout (" + std::to_string(s.spec->kill_timeout.count()) + "ms) expired: SIGKILL to "
           + (s.cg.empty() ? "the process group" : "its cgroup"));
  }
  std::optional<ev> outcome;
  std::string retry_what;
  auto why = restart_reason(s, e, ctx);
  if (a & act_spawn) {
    if (e != ev::start) ++s.restarts;
    outcome = spawn_run(self, retry_what);
  }
  announce(self, before, e, ctx);
  if (a & act_reply_stop) {
    for (auto& rp : s.stop_waiters) rp.deliver(true);
    s.stop_waiters.clear();
    s.stop_why = {};
  }
  if (a & act_arm_backoff) {
    s.backoff_due = clock::now() + s.pending_delay;
    self->delayed_send(self, s.pending_delay, timer_atom::value, s.gen);
  }
  if (a & (act_tell_group | act_ask_group))
    tell_group(self, false, s.id + " " + (ctx.exit ? ctx.exit->description : s.pending_why.text),
               (a & act_ask_group) != 0);
  if (a & act_gave_up)
    tell_group(self, true, e == ev::spawn_failed ? s.reason : s.id + ": " + s.reason, false);
  if (!outcome) return write_journal(self);
  step(self, *outcome,
       {nullptr, *outcome == ev::spawned ? why : reason{restart_cause::none, retry_what}});
}

/// want up; spawns now (also cancels a pending backoff); a fresh start. At
/// the first start, the run a crashed daemon left may be taken over instead.
bool start(self_ptr self, reason why) {
  auto& s = self->state;
  s.tracker->reset();
  s.leaving = false;
  if (s.pid == 0 && s.phase() == proc_state::stopped && try_adopt(self)) return s.pid != 0;
  step(self, ev::start, {nullptr, std::move(why)});
  return s.pid != 0;
}

/// want down; replies once the process is gone (at once if there is none).
caf::result<bool> stop(self_ptr self, reason why) {
  auto& s = self->state;
  s.leaving = why.cause != restart_cause::manual;
  if (s.pid == 0) {
    s.stop_why = std::move(why);
    step(self, ev::stop);
    s.stop_why = {};
    return true;
  }
  auto rp = self->make_response_promise<bool>();
  s.stop_waiters.push_back(rp);
  if (s.phase() != proc_state::stopping) s.stop_why = std::move(why);
  step(self, ev::stop);
  return rp;
}

/// The machine's step for a run that ended.
void run_ended_step(self_ptr self, child_exited& ex, restart_cause cause) {
  auto& s = self->state;
  auto uptime = uptime_of(s, ex.at_ns);
  s.last_exit = ex.description;
  end_run(self);
  set_pid(s, 0);
  if (s.phase() == proc_state::stopping) {
    s.reason = "stopped";
    if (!s.stop_why.text.empty()) s.last_exit = s.stop_why.text + " (" + ex.description + ")";
    return step(self, ev::exit_stopped, {&ex, {}});
  }
  step(self, judge(self, {ex.signaled, ex.code, uptime}, ex.description, false, cause),
       {&ex, {}});
}

void on_exit(self_ptr self, child_exited& ex) {
  auto& s = self->state;
  if (ex.pid != s.pid) return; // a run we no longer track
  auto gen = s.spawn_gen;
  bool adopted = s.adopted;
  if (adopted) learn_adopted_exit(self, ex);
  bool contained = !s.cg.empty();
  auto cause = restart_cause::crash;
  os::run_cgroup ended;
  if (!end_contained_run(self, ex, cause, ended)) return; // a stop waits for the whole cgroup
  run_ended_step(self, ex, cause);
  // After the step (a restart's spawn comes first): what the run left goes
  // with it, from its cgroup, or outside its process group.
  if (contained) drain_ended_run(self, std::move(ended), ex.pid);
  else stop_leftovers(self, ex.pid, gen, adopted);
}

} // namespace

void restart_in_place(self_ptr self, reason why) {
  auto& s = self->state;
  if (s.pid == 0 || s.phase() == proc_state::stopping) return;
  s.stop_why = std::move(why);
  step(self, ev::restart);
}

void fsm_step(self_ptr self, instance_event e, std::string why) {
  step(self, e, {nullptr, {restart_cause::none, std::move(why)}});
  if (e == ev::became_ready && self->state.links.trial) {
    self->state.links.trial = false; // accepted: a full instance now, with its record
    write_journal(self);
  }
}

process_state::~process_state() {
  drop_notify(*this);
  // Last resort (the actor is going away): never leave an orphan behind.
  if (pid > 0) os::signal_group(pid, SIGKILL);
  if (rt && rt->cgroups && !cg.empty()) { // and all it started; the drain removes the cgroup
    rt->cgroups->kill(cg);
    rt->cgroups->retire(std::move(cg), std::chrono::steady_clock::now());
  }
  if (rt && rt->cgroups) rt->cgroups->retire(std::move(spare), std::chrono::steady_clock::now());
  if (pid > 0 && rt && spec && spec->max_memory > 0) rt->memory.set(pid, 0, {}, 0);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
}

caf::behavior process_actor(self_ptr self, std::shared_ptr<const app_spec> spec, uint32_t index,
                            instance_links links, runtime_ptr rt) {
  auto& st = self->state;
  st.id = spec->name + "#" + std::to_string(index);
  st.spec = std::move(spec);
  st.index = index;
  st.links = std::move(links);
  st.fsm.ask_group_first = st.links.group_counts_first;
  st.tracker.emplace(st.spec);
  st.rt = std::move(rt);
  st.spawn_gen = st.rt->next_generation();
  st.spec_hash = config::run_spec_hash(*st.spec);
  log_unexpected(self, st.id);
  self->monitor(st.links.app); // the app supervisor goes: we go (the state kills the group)
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.links.app.address()) self->quit(dm.reason);
  });
  return {
    [=](start_atom) -> bool { return start(self, {}); },
    [=](start_atom, reason& why) -> bool { return start(self, std::move(why)); },
    [=](stop_atom) -> caf::result<bool> { return stop(self, {}); },
    [=](stop_atom, reason& why) -> caf::result<bool> { return stop(self, std::move(why)); },
    [=](restart_atom, reason& why) { restart_in_place(self, std::move(why)); },
    [=](probe_atom, uint64_t run) { on_probe_due(self, run); },
    [=](probed_atom, uint64_t run, bool ok, std::string& detail, int64_t took_ms) {
      on_probed(self, run, ok, detail, took_ms);
    },
    [=](notify_atom, bool ready, std::string& status) { on_notify(self, ready, status); },
    [=](uptime_atom, uint64_t run) { on_uptime(self, run); },
    [=](child_exited& ex) { on_exit(self, ex); },
    [=](timer_atom, uint64_t gen) {
      if (gen == self->state.gen) step(self, ev::backoff_due);
    },
    [=](kill_atom, uint64_t gen) {
      if (gen == self->state.gen && self->state.pid != 0) step(self, ev::kill_due);
    },
    [=](halt_atom) {
      // Operator's second interrupt: no more grace for this run.
      if (self->state.pid != 0) kill_run(self);
    },
    [=](signal_atom, int sig) -> int32_t {
      auto& s = self->state;
      if (s.pid == 0) return 0;
      return os::signal_group(s.pid, sig) == 0 ? s.pid : 0;
    },
    [=](status_atom) { return status_of(self); },
  };
}

} // namespace arbor::detail
