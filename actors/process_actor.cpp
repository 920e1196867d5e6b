#include "process_actor.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.hpp"
#include "policy/restart_tracker.hpp"
#include "event_bus.hpp"
#include "process_health.hpp"

namespace arbor::detail {

using self_ptr = caf::stateful_actor<process_state>*;
using clock = std::chrono::steady_clock;

void emit(self_ptr self, const char* what, std::string reason, int32_t pid) {
  auto& s = self->state;
  event e;
  e.at_ns = wall_now_ns();
  e.supervisor = s.spec->name;
  e.what = what;
  e.offender = s.id;
  e.reason = std::move(reason);
  e.pid = pid >= 0 ? pid : s.pid;
  e.state = s.state;
  self->send(s.rt->bus, std::move(e));
}

namespace {

std::string find_path(const std::vector<std::string>& env) {
  for (auto& kv : env)
    if (kv.compare(0, 5, "PATH=") == 0) return kv.substr(5);
  return "/usr/local/bin:/usr/bin:/bin";
}

/// Resolves the command and builds the environment once per start from
/// stopped/failed; returns "" or why the command cannot run.
std::string build_plan(self_ptr self) {
  auto& s = self->state;
  const auto& spec = *s.spec;
  if (spec.argv.empty()) return "empty command";
  if (auto err = os::check_cwd(spec.cwd); !err.empty()) return err;
  // What differs between the app's instances; the rest is shared.
  std::vector<std::string> own{"ARBOR_INSTANCE=" + std::to_string(s.index)};
  if (s.port != 0) own.push_back("PORT=" + std::to_string(s.port));
  std::string err;
  auto notify = notify_socket(self, err);
  if (!err.empty()) return "ready = \"notify\": " + err;
  if (!notify.empty()) own.push_back("NOTIFY_SOCKET=" + notify);
  auto shared = s.rt->app_env(spec.name, spec.env);
  auto path = os::resolve_executable(spec.argv.front(), find_path(*shared), spec.cwd, err);
  if (path.empty()) return err;
  s.plan = std::make_shared<os::spawn_plan>(std::move(path), spec.argv, std::move(shared),
                                            std::move(own), spec.cwd);
  return {};
}

/// Opens the instance's pipes into the log pump if not open yet; they stay
/// open across restarts. The app runs even when they cannot be made (its
/// output is discarded), and that is said once.
void open_logs(self_ptr self) {
  auto& s = self->state;
  if (!s.rt->pump || (s.out_fd >= 0 && s.err_fd >= 0)) return;
  std::string failed;
  for (auto [fd, which] : {std::pair{&s.out_fd, logs::stream::out},
                           std::pair{&s.err_fd, logs::stream::err}}) {
    if (*fd >= 0) continue;
    *fd = s.rt->pump->open_stream(s.spec->name, s.index, which);
    if (*fd < 0 && failed.empty()) failed = std::strerror(errno);
  }
  if (!failed.empty() && !s.log_error_reported) {
    s.log_error_reported = true;
    emit(self, "log_error", "cannot capture output: " + failed + " (output discarded)");
  }
}

/// Sets the instance's pid, keeping the memory registry in step.
void set_pid(process_state& s, int32_t pid) {
  if (s.spec->max_memory > 0) s.rt->memory.set(s.pid, pid, s.parent, s.index);
  s.pid = pid;
}

void enter_failed(self_ptr self, std::string why) {
  auto& s = self->state;
  s.state = proc_state::failed;
  s.want_up = false;
  s.reason = why;
  s.plan.reset(); // a later start resolves the command again
  journal(self);
  self->send(s.parent, spawn_failed{s.index, why});
  emit(self, "spawn_failed", std::move(why));
}

} // namespace

child_exited make_exit_msg(const os::exit_record& r) {
  child_exited m;
  m.pid = r.pid;
  m.signaled = r.signaled;
  m.core_dumped = r.core_dumped;
  m.code = r.code;
  m.at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(r.at.time_since_epoch()).count();
  m.description = os::describe(r);
  m.respawned_pid = r.respawned_pid;
  m.respawned_at_ns =
    std::chrono::duration_cast<std::chrono::nanoseconds>(r.respawned_at.time_since_epoch())
      .count();
  m.respawn_error = r.respawn_error;
  m.respawn_what = r.respawn_what;
  return m;
}

namespace {

/// A standing order for the exit watcher, when this app's policy can ever
/// restart at once; nullptr otherwise.
std::shared_ptr<os::respawn_order> make_order(const process_state& s) {
  if (s.strict || s.spec->restart == restart_policy::never
      || s.spec->restart_delay.count() != 0)
    return nullptr;
  auto o = std::make_shared<os::respawn_order>();
  o->plan = s.plan;
  o->stdout_fd = s.out_fd;
  o->stderr_fd = s.err_fd;
  o->decide = [spec = s.spec](const os::exit_record& r, std::chrono::milliseconds up) {
    return restarts_at_once(*spec, run_facts{r.signaled, r.code, up});
  };
  o->spawned = journal_respawns(s);
  return o;
}

/// Takes the standing order back before a stop. If the watcher respawned just
/// before, that record is in flight and child_exited stops the new run too.
void disarm(process_state& s) {
  if (s.order) s.rt->watcher.disarm(s.order.get());
}

/// Stops the current run: kill_signal to its group, SIGKILL after kill_timeout.
void begin_stop(self_ptr self) {
  auto& s = self->state;
  end_run(self);
  s.state = proc_state::stopping;
  os::signal_group(s.pid, s.spec->kill_signal);
  emit(self, "stopping", s.stop_why);
  self->delayed_send(self, s.spec->kill_timeout, kill_atom::value, s.gen);
}


/// Spawns the process now: the hot path of every restart. `why`, if set, is
/// emitted as a `restarting` event right after the spawn (never before it).
void spawn_now(self_ptr self, const std::string* why = nullptr) {
  auto& s = self->state;
  if (!s.plan) {
    if (auto err = build_plan(self); !err.empty()) return enter_failed(self, std::move(err));
  }
  open_logs(self);
  s.state = proc_state::starting;
  auto r = s.plan->spawn(s.out_fd, s.err_fd);
  if (!r.ok()) {
    if (r.error == EAGAIN || r.error == ENOMEM) {
      // The system is short of processes or memory: retry like a crash.
      s.state = proc_state::stopped;
      self->send(s.parent, run_ended{s.index, false, 255, 0, "spawn: " + r.what});
      emit(self, "spawn_retry", r.what);
      return;
    }
    return enter_failed(self, r.what);
  }
  if (why) emit(self, "restarting", *why);
  set_pid(s, r.pid);
  s.started = clock::now();
  s.started_wall_ms = wall_now_ns() / 1000000;
  s.state = proc_state::running;
  s.reason.clear();
  auto me = caf::actor_cast<caf::actor>(self);
  s.order = make_order(s);
  auto ec = s.rt->watcher.watch(
    r.pid, [me](const os::exit_record& rec) { caf::anon_send(me, make_exit_msg(rec)); },
    s.order, s.started);
  if (ec) {
    // Unwatchable means unsupervised: never leave it running.
    os::signal_group(r.pid, SIGKILL);
    ::waitpid(r.pid, nullptr, 0); // ours and unwatched: reap it here (it is dying)
    set_pid(s, 0);
    return enter_failed(self, "cannot watch pid " + std::to_string(r.pid) + ": " + ec.message());
  }
  s.adopted = false;
  emit(self, "child_started");
  begin_run(self);
  journal(self);
}

/// want down; replies once the process is gone (at once if there is none).
caf::result<bool> stop(self_ptr self, std::string why) {
  auto& s = self->state;
  s.want_up = false;
  s.respawn_after_stop = false;
  ++s.gen;
  if (s.pid == 0) {
    if (s.state != proc_state::stopped) {
      s.state = proc_state::stopped;
      emit(self, "stopped", why.empty() ? "stop requested" : why);
    }
    journal(self);
    return true;
  }
  auto rp = self->make_response_promise<bool>();
  s.stop_waiters.push_back(rp);
  disarm(s);
  if (s.state != proc_state::stopping) {
    s.stop_why = std::move(why);
    begin_stop(self);
  }
  return rp;
}

/// want up; spawns now (also cancels a pending backoff). `why`, if set, is
/// reported as the reason of this (re)start.
bool start(self_ptr self, const std::string* why) {
  auto& s = self->state;
  s.want_up = true;
  if (s.pid != 0) return true; // running or stopping: nothing to start
  ++s.gen;
  if (!try_adopt(self)) spawn_now(self, why);
  return s.pid != 0;
}

void finish_stop(self_ptr self) {
  auto& s = self->state;
  for (auto& rp : s.stop_waiters) rp.deliver(true);
  s.stop_waiters.clear();
}

} // namespace

void restart_in_place(self_ptr self, std::string why) {
  auto& s = self->state;
  if (s.pid == 0 || s.state == proc_state::stopping) return;
  disarm(s);
  ++s.gen;
  s.stop_why = std::move(why);
  s.respawn_after_stop = true;
  begin_stop(self);
}

process_state::~process_state() {
  drop_notify(*this);
  // Last resort (the actor is going away): never leave an orphan behind.
  if (order && rt)
    for (auto p : rt->watcher.disarm(order.get())) os::signal_group(p, SIGKILL);
  if (pid > 0) os::signal_group(pid, SIGKILL);
  if (pid > 0 && rt && spec && spec->max_memory > 0) rt->memory.set(pid, 0, {}, 0);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
}

caf::behavior process_actor(caf::stateful_actor<process_state>* self,
                            std::shared_ptr<const app_spec> spec, uint32_t index,
                            caf::actor parent, runtime_ptr rt, bool strict, uint16_t port) {
  auto& st = self->state;
  st.id = spec->name + "#" + std::to_string(index);
  st.spec = std::move(spec);
  st.index = index;
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  st.strict = strict;
  st.port = port;
  log_unexpected(self, st.id);
  self->monitor(st.parent); // the app supervisor goes: we go (the state kills the group)
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.parent.address()) self->quit(dm.reason);
  });
  return {
    [=](start_atom) -> bool { return start(self, nullptr); },
    [=](start_atom, std::string& why) -> bool { return start(self, why.empty() ? nullptr : &why); },
    [=](stop_atom) -> caf::result<bool> { return stop(self, {}); },
    [=](stop_atom, std::string& why) -> caf::result<bool> { return stop(self, std::move(why)); },
    [=](restart_atom, std::string& why) { restart_in_place(self, std::move(why)); },
    [=](probe_atom, uint64_t run) { on_probe_due(self, run); },
    [=](probed_atom, uint64_t run, bool ok, std::string& detail, int64_t took_ms) {
      on_probed(self, run, ok, detail, took_ms);
    },
    [=](notify_atom, bool ready, std::string& status) { on_notify(self, ready, status); },
    [=](uptime_atom, uint64_t run) { on_uptime(self, run); },
    [=](child_exited& ev) {
      auto& s = self->state;
      if (ev.pid != s.pid) return; // a run we no longer track
      auto at = clock::time_point{std::chrono::nanoseconds{ev.at_ns}};
      auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(at - s.started);
      s.last_exit = ev.description;
      ++s.gen; // the kill timer of this run is stale now
      end_run(self);
      if (ev.respawned_pid > 0) {
        // The watcher restarted a stable run at once; catch up.
        set_pid(s, ev.respawned_pid);
        s.started = clock::time_point{std::chrono::nanoseconds{ev.respawned_at_ns}};
        s.started_wall_ms = wall_now_ns() / 1000000;
        ++s.restarts;
        bool unwanted = !s.want_up || s.state == proc_state::stopping;
        s.state = proc_state::running;
        s.reason.clear();
        self->send(s.parent, run_ended{s.index, ev.signaled, ev.code, uptime.count(),
                                       ev.description, true});
        emit(self, "child_exited", ev.description, ev.pid);
        emit(self, "restarting", ev.description);
        emit(self, "child_started");
        begin_run(self);
        journal(self);
        if (unwanted) begin_stop(self); // lost a race with a stop: end this run too
        return;
      }
      set_pid(s, 0);
      if (ev.respawn_error != 0) {
        // The standing order tried and could not exec: like a failed spawn.
        emit(self, "child_exited", ev.description, ev.pid);
        if (ev.respawn_error == EAGAIN || ev.respawn_error == ENOMEM) {
          s.state = proc_state::stopped;
          self->send(s.parent, run_ended{s.index, ev.signaled, ev.code, uptime.count(),
                                         "spawn: " + ev.respawn_what});
          return;
        }
        return enter_failed(self, ev.respawn_what);
      }
      if (s.state == proc_state::stopping || !s.want_up) {
        s.state = proc_state::stopped;
        s.reason = "stopped";
        if (!s.stop_why.empty()) s.last_exit = s.stop_why + " (" + ev.description + ")";
        emit(self, "stopped", s.last_exit, ev.pid); // before the reply: log order = causal order
        journal(self);
        finish_stop(self);
        auto why = std::move(s.stop_why);
        s.stop_why.clear();
        if (s.respawn_after_stop && s.want_up) {
          s.respawn_after_stop = false;
          ++s.restarts;
          spawn_now(self, &why);
        }
        return;
      }
      s.state = proc_state::stopped;
      journal(self);
      // Decision first (the fast path), the event after.
      self->send(s.parent, run_ended{s.index, ev.signaled, ev.code, uptime.count(),
                                     ev.description});
      emit(self, "child_exited", std::move(ev.description), ev.pid);
    },
    [=](respawn_atom, int64_t delay_ms, std::string& why) {
      auto& s = self->state;
      if (!s.want_up || s.pid != 0) return;
      if (delay_ms <= 0) {
        ++s.restarts;
        spawn_now(self, &why);
        return;
      }
      s.state = proc_state::backoff;
      s.reason = std::move(why);
      self->delayed_send(self, std::chrono::milliseconds{delay_ms}, timer_atom::value, ++s.gen);
      emit(self, "backoff", s.reason);
    },
    [=](timer_atom, uint64_t gen) {
      auto& s = self->state;
      if (gen != s.gen || s.state != proc_state::backoff || !s.want_up) return;
      ++s.restarts;
      spawn_now(self);
    },
    [=](kill_atom, uint64_t gen) {
      auto& s = self->state;
      if (gen != s.gen || s.state != proc_state::stopping || s.pid == 0) return;
      os::signal_group(s.pid, SIGKILL);
      emit(self, "killed",
           "kill_timeout (" + std::to_string(s.spec->kill_timeout.count())
             + "ms) expired: SIGKILL to the process group");
    },
    [=](halt_atom) {
      // Operator's second interrupt: no more grace for this run.
      auto& s = self->state;
      disarm(s);
      if (s.pid != 0) os::signal_group(s.pid, SIGKILL);
    },
    [=](giveup_atom, std::string& why) {
      auto& s = self->state;
      if (s.pid != 0) return; // started again meanwhile
      s.state = proc_state::failed;
      s.want_up = false;
      s.reason = why;
      journal(self);
      emit(self, "gave_up", std::move(why));
    },
    [=](stay_down_atom, std::string& why) {
      self->state.reason = why;
      emit(self, "stays_down", std::move(why));
    },
    [=](signal_atom, int sig) -> int32_t {
      auto& s = self->state;
      if (s.pid == 0) return 0;
      return os::signal_group(s.pid, sig) == 0 ? s.pid : 0;
    },
    [=](status_atom) {
      auto& s = self->state;
      instance_status x;
      x.id = s.id;
      x.index = s.index;
      x.state = s.state;
      x.want_up = s.want_up;
      x.pid = s.pid;
      x.restarts = s.restarts;
      x.started_at_ms = s.pid != 0 ? s.started_wall_ms : 0;
      if (s.pid != 0) {
        x.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now()
                                                                            - s.started)
                        .count();
        if (s.rt->sampler) {
          // Fresh numbers (a few /proc reads of this tree at most once a
          // second): only apps with max_memory are sampled periodically.
          if (auto u = s.rt->sampler->sample_now(s.pid, std::chrono::seconds(1))) {
            x.memory_bytes = static_cast<int64_t>(u->rss_bytes);
            if (u->cpu_percent) x.cpu_percent = *u->cpu_percent;
          }
        }
      }
      x.last_exit = s.last_exit;
      x.reason = s.reason;
      x.port = s.port;
      x.health = s.health_detail;
      return x;
    },
  };
}

} // namespace arbor::detail
