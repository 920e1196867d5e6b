#include "app_supervisor.hpp"

#include <spdlog/spdlog.h>

#include "arbor/messages.hpp"
#include "common.hpp"
#include "internal_messages.hpp"
#include "process_actor.hpp"

namespace arbor::detail {

namespace {

using self_ptr = caf::stateful_actor<app_supervisor_state>*;
using verdict = restart_decision::verdict;

void on_run_ended(self_ptr self, run_ended& ev) {
  auto& s = self->state;
  if (ev.index >= s.instances.size() || !s.want_up) return; // stopping: no decision
  auto& inst = s.instances[ev.index];
  auto d = s.trackers[ev.index].on_exit(
    {ev.signaled, ev.code, std::chrono::milliseconds{ev.uptime_ms}});
  if (ev.restarted) return; // the exit watcher applied restarts_at_once: same verdict
  switch (d.what) {
    // The instance reports the decision as its own event, so that each
    // instance's events reach the log in the order they happened.
    case verdict::restart:
      self->send(inst, respawn_atom::value, static_cast<int64_t>(d.delay.count()),
                 d.delay.count() == 0
                   ? ev.description
                   : (d.crash_loop ? "crash loop: "
                                       + std::to_string(s.trackers[ev.index].short_runs())
                                       + " consecutive runs shorter than min_uptime, "
                                   : ev.description + ", ")
                       + "restart in " + std::to_string(d.delay.count()) + "ms");
      break;
    case verdict::stay_down:
      self->send(inst, stay_down_atom::value, d.reason);
      break;
    case verdict::give_up:
      self->send(inst, giveup_atom::value, d.reason);
      break;
  }
}

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

namespace {

/// The instance indexes `addr` names: all for the app's own name, one for
/// "name#i"; empty if it names nothing here.
std::vector<size_t> select(const app_supervisor_state& s, const std::string& addr) {
  std::vector<size_t> out;
  if (addr == s.spec->name) {
    for (size_t i = 0; i < s.instances.size(); ++i) out.push_back(i);
  } else if (addr.size() > s.spec->name.size() + 1
             && addr.compare(0, s.spec->name.size() + 1, s.spec->name + "#") == 0) {
    auto i = std::stoul(addr.substr(s.spec->name.size() + 1));
    if (i < s.instances.size()) out.push_back(i);
  }
  return out;
}

std::vector<std::string> ids_of(const app_supervisor_state& s, const std::vector<size_t>& which) {
  std::vector<std::string> ids;
  for (auto i : which) ids.push_back(s.spec->name + "#" + std::to_string(i));
  return ids;
}

caf::error nothing_named(const std::string& addr) {
  return caf::make_error(caf::sec::invalid_argument, "no instance named '" + addr + "'");
}

/// Starts the given instances (counters reset), then `done` once each has
/// spawned (or failed to).
void start_some(self_ptr self, const std::vector<size_t>& which,
                std::function<void()> done = [] {}) {
  auto& s = self->state;
  std::vector<caf::actor> xs;
  for (auto i : which) {
    s.trackers[i].reset();
    xs.push_back(s.instances[i]);
  }
  gather<bool>(self, xs, std::chrono::seconds(30), start_atom::value,
               [done](std::vector<bool>&) { done(); });
}

/// Stops the given instances (all at once, highest index first), then `done`.
void stop_some(self_ptr self, const std::vector<size_t>& which, std::function<void()> done) {
  std::vector<caf::actor> xs;
  for (auto i = which.rbegin(); i != which.rend(); ++i) xs.push_back(self->state.instances[*i]);
  gather<bool>(self, xs, std::chrono::hours(24), stop_atom::value,
               [done](std::vector<bool>&) { done(); });
}

void spawn_instance(self_ptr self) {
  auto& s = self->state;
  auto i = static_cast<uint32_t>(s.instances.size());
  s.instances.push_back(self->spawn<caf::monitored>(process_actor, s.spec, i,
                                                    caf::actor_cast<caf::actor>(self), s.rt));
  s.trackers.emplace_back(*s.spec);
}

/// Sets the instance count: new instances start if the app is wanted up;
/// surplus ones (highest indexes) are stopped and retired.
caf::result<uint32_t> scale(self_ptr self, uint32_t n) {
  auto& s = self->state;
  auto before = static_cast<uint32_t>(s.instances.size());
  auto spec = std::make_shared<app_spec>(*s.spec);
  spec->instances = n;
  s.spec = spec;
  if (n >= before) {
    std::vector<size_t> added;
    for (auto i = before; i < n; ++i) {
      spawn_instance(self);
      added.push_back(i);
    }
    if (!s.want_up) return before;
    auto rp = self->make_response_promise<uint32_t>();
    start_some(self, added, [rp, before]() mutable { rp.deliver(before); });
    return rp;
  }
  std::vector<size_t> surplus;
  for (auto i = n; i < before; ++i) surplus.push_back(i);
  auto rp = self->make_response_promise<uint32_t>();
  stop_some(self, surplus, [self, rp, n, before]() mutable {
    auto& s = self->state;
    for (auto i = n; i < before && i < s.instances.size(); ++i) {
      self->demonitor(s.instances[i]);
      self->send_exit(s.instances[i], caf::exit_reason::user_shutdown);
    }
    if (s.instances.size() > n) {
      s.instances.resize(n);
      s.trackers.erase(s.trackers.begin() + n, s.trackers.end());
    }
    rp.deliver(before);
  });
  return rp;
}

} // namespace

caf::behavior app_supervisor(caf::stateful_actor<app_supervisor_state>* self,
                             std::shared_ptr<const app_spec> spec, caf::actor parent,
                             runtime_ptr rt) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  for (uint32_t i = 0; i < st.spec->instances; ++i) spawn_instance(self);
  if (st.rt->pump)
    st.rt->pump->configure({st.spec->name, st.rt->log_dir, st.spec->log.max_size,
                            st.spec->log.max_files, st.spec->log.date_format});
  log_unexpected(self, st.spec->name);
  if (st.parent) self->monitor(st.parent); // it goes, we go (and our instances with us)
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.parent.address()) return self->quit(dm.reason);
    spdlog::error("supervisor={} event=child_terminated reason={} offender=actor",
                  self->state.spec->name, self->system().render(dm.reason));
  });
  return {
    [=](start_atom) {
      auto& s = self->state;
      s.want_up = true;
      std::vector<size_t> all;
      for (size_t i = 0; i < s.instances.size(); ++i) all.push_back(i);
      start_some(self, all);
    },
    [=](stop_atom) -> caf::result<bool> {
      auto& s = self->state;
      s.want_up = false;
      if (s.instances.empty()) return true;
      auto rp = self->make_response_promise<bool>();
      auto left = std::make_shared<size_t>(s.instances.size());
      for (auto i = s.instances.rbegin(); i != s.instances.rend(); ++i) {
        self->request(*i, caf::infinite, stop_atom::value)
          .then([=](bool) mutable { if (--*left == 0) rp.deliver(true); },
                [=](caf::error&) mutable { if (--*left == 0) rp.deliver(true); });
      }
      return rp;
    },
    [=](halt_atom) {
      for (auto& x : self->state.instances) self->send(x, halt_atom::value);
    },
    [=](start_atom, std::string& addr) -> caf::result<std::vector<std::string>> {
      auto& s = self->state;
      auto which = select(s, addr);
      if (which.empty() && addr != s.spec->name) return nothing_named(addr);
      if (addr == s.spec->name) s.want_up = true;
      auto rp = self->make_response_promise<std::vector<std::string>>();
      start_some(self, which, [rp, ids = ids_of(s, which)]() mutable { rp.deliver(ids); });
      return rp;
    },
    [=](stop_atom, std::string& addr) -> caf::result<std::vector<std::string>> {
      auto& s = self->state;
      auto which = select(s, addr);
      if (which.empty() && addr != s.spec->name) return nothing_named(addr);
      if (addr == s.spec->name) s.want_up = false;
      auto rp = self->make_response_promise<std::vector<std::string>>();
      stop_some(self, which, [rp, ids = ids_of(s, which)]() mutable { rp.deliver(ids); });
      return rp;
    },
    [=](restart_atom, std::string& addr) -> caf::result<std::vector<std::string>> {
      auto& s = self->state;
      auto which = select(s, addr);
      if (which.empty() && addr != s.spec->name) return nothing_named(addr);
      if (addr == s.spec->name) s.want_up = true;
      auto rp = self->make_response_promise<std::vector<std::string>>();
      stop_some(self, which, [self, rp, which]() mutable {
        start_some(self, which, [self, rp, which]() mutable {
          rp.deliver(ids_of(self->state, which));
        });
      });
      return rp;
    },
    [=](scale_atom, std::string& addr, uint32_t n) -> caf::result<uint32_t> {
      if (addr != self->state.spec->name) return nothing_named(addr);
      return scale(self, n);
    },
    [=](signal_atom, int sig, std::string& addr)
      -> caf::result<std::vector<std::string>, std::vector<int32_t>> {
      auto& s = self->state;
      auto which = select(s, addr);
      if (which.empty() && addr != s.spec->name) return nothing_named(addr);
      std::vector<caf::actor> xs;
      for (auto i : which) xs.push_back(s.instances[i]);
      auto rp = self->make_response_promise<std::vector<std::string>, std::vector<int32_t>>();
      gather<int32_t>(self, xs, std::chrono::seconds(5), caf::make_message(signal_atom::value, sig),
                      [rp, ids = ids_of(s, which)](std::vector<int32_t>& pids) mutable {
                        std::vector<std::string> hit;
                        std::vector<int32_t> hit_pids;
                        for (size_t i = 0; i < pids.size(); ++i)
                          if (pids[i] > 0) {
                            hit.push_back(ids[i]);
                            hit_pids.push_back(pids[i]);
                          }
                        rp.deliver(std::move(hit), std::move(hit_pids));
                      });
      return rp;
    },
    [=](run_ended& ev) { on_run_ended(self, ev); },
    [=](spawn_failed& ev) {
      // The instance is already `failed` and said why; nothing to retry.
      spdlog::debug("supervisor={} event=spawn_failed index={} reason={}",
                    self->state.spec->name, ev.index, ev.reason);
    },
    [=](status_atom) -> caf::result<node_status> {
      auto& s = self->state;
      auto rp = self->make_response_promise<node_status>();
      gather<instance_status>(self, s.instances, std::chrono::seconds(5), status_atom::value,
                              [rp, name = s.spec->name](std::vector<instance_status>& xs) mutable {
                                node_status out;
                                out.name = name;
                                out.state = summarize(xs);
                                out.instances = std::move(xs);
                                rp.deliver(std::move(out));
                              });
      return rp;
    },
  };
}

} // namespace arbor::detail
