#include "app_supervisor.hpp"

#include <algorithm>

#include "log.hpp"

#include "arbor/messages.hpp"
#include "common.hpp"
#include "event_bus.hpp"
#include "internal_messages.hpp"
#include "process/process_actor.hpp"

namespace arbor::detail {

namespace {

using ids = std::vector<std::string>;

/// Worst-first: an app is as healthy as its least healthy instance.
int rank(proc_state s) {
  switch (s) {
    case proc_state::failed: return 0;
    case proc_state::backoff: return 1;
    case proc_state::stopping: return 2;
    case proc_state::starting: return 3;
    case proc_state::running: return 4;
    case proc_state::ready: return 5;
    case proc_state::stopped: return 6;
  }
  return 6;
}

caf::error nothing_named(const std::string& addr) {
  return caf::make_error(caf::sec::invalid_argument, "no instance named '" + addr + "'");
}

/// Sets whether the app is wanted up; (re)arms its cron schedule when it is.
void want(app_self self, bool up) {
  self->state.want_up = up;
  if (up) arm_cron(self);
}

/// The instances an addressed command acts on, or an error when `addr` names
/// none of them. The app's own name also sets whether it is wanted up.
caf::expected<std::vector<size_t>> addressed(app_self self, const std::string& addr,
                                            std::optional<bool> up) {
  auto& s = self->state;
  auto which = select(s, addr);
  if (addr == s.spec->name) {
    if (up) want(self, *up);
  } else if (which.empty()) {
    return nothing_named(addr);
  }
  return which;
}

/// The instances held back by depends_on say so (`status` lists instances).
void note_waiting(std::vector<instance_status>& xs, const std::vector<size_t>& pending,
                  const std::string& why) {
  for (auto& x : xs)
    if (x.state == proc_state::stopped
        && std::find(pending.begin(), pending.end(), x.index) != pending.end())
      x.reason = why;
}

} // namespace

std::string summarize(const std::vector<instance_status>& xs) {
  if (xs.empty()) return "stopped";
  auto worst = xs.front().state;
  bool any_up = false;
  for (auto& x : xs) {
    if (rank(x.state) < rank(worst)) worst = x.state;
    any_up = any_up || x.pid != 0;
  }
  // Some instances up and the rest stopped on purpose: the app is running.
  if (worst == proc_state::stopped && any_up) return "running";
  return to_string(worst);
}

caf::behavior app_supervisor(app_self self, std::shared_ptr<const app_spec> spec,
                             caf::actor parent, runtime_ptr rt, bool group_counts_first) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  st.group_counts_first = group_counts_first;
  st.rt->board.set(st.spec->name, false); // known, not ready: dependents wait
  for (uint32_t i = 0; i < st.spec->instances; ++i) spawn_instance(self);
  if (st.rt->pump)
    st.rt->pump->configure({st.spec->name, st.rt->log_dir, st.spec->log.max_size,
                            st.spec->log.max_files, st.spec->log.date_format});
  if (!st.spec->cron_restart.empty()) {
    std::string err;
    st.cron = config::parse_cron(st.spec->cron_restart, err);
    if (!st.spec->cron_tz.empty()) st.tz = config::time_zone::load(st.spec->cron_tz, err);
    if (!st.cron || (!st.spec->cron_tz.empty() && !st.tz))
      log_error("supervisor={} event=cron_invalid reason=\"{}\"", st.spec->name, err);
  }
  start_watching(self);
  log_unexpected(self, st.spec->name);
  if (st.parent) self->monitor(st.parent); // it goes, we go (and our instances with us)
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.parent.address()) return self->quit(dm.reason);
    log_error("supervisor={} event=child_terminated reason={} offender=actor",
                  self->state.spec->name, self->system().render(dm.reason));
  });
  auto all = [self] {
    std::vector<size_t> xs;
    for (size_t i = 0; i < self->state.instances.size(); ++i) xs.push_back(i);
    return xs;
  };
  return {
    [=](start_atom) {
      want(self, true);
      start_when_ready(self, all(), {});
    },
    [=](stop_atom) -> caf::result<bool> {
      self->state.want_up = false;
      cancel_waiting(self);
      abort_reload(self, "the app is being stopped");
      auto rp = self->make_response_promise<bool>();
      stop_some(self, all(), {}, [rp]() mutable { rp.deliver(true); });
      return rp;
    },
    [=](halt_atom) {
      for (auto& x : self->state.instances) self->send(x, halt_atom::value);
    },
    [=](start_atom, std::string& addr, reason& why) -> caf::result<ids> {
      auto which = addressed(self, addr, true);
      if (!which) return which.error();
      auto rp = self->make_response_promise<ids>();
      start_when_ready(self, *which, why,
                       [rp, xs = ids_of(self->state, *which)]() mutable { rp.deliver(xs); });
      return rp;
    },
    [=](stop_atom, std::string& addr, reason& why) -> caf::result<ids> {
      auto which = addressed(self, addr, false);
      if (!which) return which.error();
      if (!self->state.want_up) cancel_waiting(self);
      abort_reload(self, "stop requested");
      auto rp = self->make_response_promise<ids>();
      stop_some(self, *which, why,
                [rp, xs = ids_of(self->state, *which)]() mutable { rp.deliver(xs); });
      return rp;
    },
    [=](restart_atom, std::string& addr, reason& why) -> caf::result<ids> {
      auto found = addressed(self, addr, true);
      if (!found) return found.error();
      auto which = *found;
      auto rp = self->make_response_promise<ids>();
      abort_reload(self, "restart requested");
      stop_some(self, which, why, [self, rp, which, why]() mutable {
        start_when_ready(self, which, why,
                   [self, rp, which]() mutable { rp.deliver(ids_of(self->state, which)); });
      });
      return rp;
    },
    [=](scale_atom, std::string& addr, uint32_t n) -> caf::result<uint32_t> {
      if (addr != self->state.spec->name) return nothing_named(addr);
      if (self->state.reload)
        return caf::make_error(caf::sec::invalid_argument,
                               "a reload of " + addr + " is in progress: scale after it");
      return scale(self, n);
    },
    [=](reload_atom, std::string& addr, reason& why) -> caf::result<ids> {
      return reload(self, addr, std::move(why));
    },
    [=](apply_atom, std::shared_ptr<const app_spec>& next) -> caf::result<bool> {
      return respec(self, std::move(next));
    },
    [=](reload_timeout_atom, uint64_t gen) { on_reload_timeout(self, gen); },
    [=](ready_atom, uint32_t index, bool ok) { on_instance_ready(self, index, ok); },
    [=](deps_atom) { on_deps_changed(self); },
    [=](signal_atom, int sig, std::string& addr) -> caf::result<ids, std::vector<int32_t>> {
      auto& s = self->state;
      auto which = addressed(self, addr, std::nullopt);
      if (!which) return which.error();
      std::vector<caf::actor> xs;
      for (auto i : *which) xs.push_back(s.instances[i]);
      auto rp = self->make_response_promise<ids, std::vector<int32_t>>();
      gather<int32_t>(self, xs, std::chrono::seconds(5), caf::make_message(signal_atom::value, sig),
                      [rp, names = ids_of(s, *which)](std::vector<int32_t>& pids) mutable {
                        ids hit;
                        std::vector<int32_t> hit_pids;
                        for (size_t i = 0; i < pids.size(); ++i)
                          if (pids[i] > 0) {
                            hit.push_back(names[i]);
                            hit_pids.push_back(pids[i]);
                          }
                        rp.deliver(std::move(hit), std::move(hit_pids));
                      });
      return rp;
    },
    // The instance has decided and told its group; only a reload's
    // replacement is the app's business.
    [=](run_ended& ev) {
      if (!from_instance(self, ev.index)) reload_event(self, false, "exited (" + ev.description + ")");
    },
    [=](spawn_failed& ev) {
      if (!from_instance(self, ev.index))
        reload_event(self, false, "could not start (" + ev.reason + ")");
    },
    [=](memory_sample& m) { on_memory(self, m.index, m.rss); },
    [=](watch_atom, std::string& path) { on_file_changed(self, path); },
    [=](cron_atom, uint64_t gen, int64_t target_ms) {
      auto& s = self->state;
      if (gen != s.cron_gen || !s.want_up) return;
      if (s.waiting) return arm_cron(self); // nothing has started yet: nothing to restart
      auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      s.wall_clock().time_since_epoch())
                      .count();
      if (now_ms + 1000 < target_ms) return arm_cron(self); // the clock moved: not yet
      event e;
      e.at_ns = wall_now_ns();
      e.supervisor = s.spec->name;
      e.what = event_kind::cron;
      e.offender = s.spec->name;
      e.reason = "cron: " + s.spec->cron_restart + " (rolling restart)";
      e.state = proc_state::running;
      self->send(s.rt->bus, std::move(e));
      roll(self, all(), {restart_cause::cron, "cron: " + s.spec->cron_restart},
           [self] { arm_cron(self); });
    },
    [=](status_atom) -> caf::result<node_status> {
      auto& s = self->state;
      auto rp = self->make_response_promise<node_status>();
      // No timer per instance (see gather): the status caller holds the deadline.
      gather<instance_status>(self, s.instances, caf::infinite, status_atom::value,
                              [rp, name = s.spec->name, waiting = s.waiting, pending = s.pending,
                               deps = s.spec->depends_on,
                               board = &s.rt->board](std::vector<instance_status>& xs) mutable {
                                node_status out;
                                out.name = name;
                                out.state = summarize(xs);
                                if (waiting) {
                                  out.state = "waiting";
                                  for (auto& d : board->missing(deps))
                                    out.reason += (out.reason.empty() ? "waiting for " : ", ") + d;
                                  note_waiting(xs, pending, out.reason);
                                }
                                out.instances = std::move(xs);
                                rp.deliver(std::move(out));
                              });
      return rp;
    },
  };
}

} // namespace arbor::detail
