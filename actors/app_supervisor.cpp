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

caf::behavior app_supervisor(caf::stateful_actor<app_supervisor_state>* self,
                             std::shared_ptr<const app_spec> spec, caf::actor parent,
                             runtime_ptr rt) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  auto me = caf::actor_cast<caf::actor>(self);
  for (uint32_t i = 0; i < st.spec->instances; ++i) {
    st.instances.push_back(self->spawn<caf::monitored>(process_actor, st.spec, i, me, st.rt));
    st.trackers.emplace_back(*st.spec);
  }
  // The state is gone when attachables run (CAF 0.17): keep our own copy.
  self->attach_functor([kids = st.instances](const caf::error&) {
    for (auto& x : kids) caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  });
  log_unexpected(self, st.spec->name);
  self->set_down_handler([=](caf::down_msg& dm) {
    spdlog::error("supervisor={} event=child_terminated reason={} offender=actor",
                  self->state.spec->name, self->system().render(dm.reason));
  });
  return {
    [=](start_atom) {
      auto& s = self->state;
      s.want_up = true;
      for (size_t i = 0; i < s.instances.size(); ++i) {
        s.trackers[i].reset();
        self->send(s.instances[i], start_atom::value);
      }
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
