#include "group_supervisor.hpp"

#include <optional>

#include "log.hpp"

#include "app/app_supervisor.hpp"
#include "arbor/messages.hpp"
#include "common.hpp"
#include "event_bus.hpp"
#include "internal_messages.hpp"

namespace arbor::detail {

namespace {

using ids = std::vector<std::string>;
using clock = std::chrono::steady_clock;

const std::string& label(group_self self) {
  static const std::string root = "root";
  return self->state.spec->name.empty() ? root : self->state.spec->name;
}

void emit(group_self self, event_kind what, std::string offender, std::string reason,
          restart_cause cause = restart_cause::none) {
  event e;
  e.at_ns = wall_now_ns();
  e.supervisor = self->state.spec->name;
  e.what = what;
  e.offender = std::move(offender);
  e.reason = std::move(reason);
  e.state = self->state.failed ? proc_state::failed : proc_state::running;
  e.cause = cause;
  self->send(self->state.rt->bus, std::move(e));
}

std::vector<size_t> all_children(group_self self) {
  std::vector<size_t> xs;
  for (size_t i = 0; i < self->state.children.size(); ++i) xs.push_back(i);
  return xs;
}

/// Stops the given children one by one in reverse order, collecting what
/// each stopped, then calls `done`.
void stop_each(group_self self, std::vector<size_t> which, reason why,
               std::shared_ptr<ids> acc, std::function<void(ids&)> done) {
  if (which.empty()) return done(*acc);
  auto i = which.back();
  which.pop_back();
  auto& s = self->state;
  if (i >= s.children.size()) return stop_each(self, std::move(which), why, acc, done);
  self->request(s.children[i], caf::infinite, stop_atom::value, s.spec->children[i].name(), why)
    .then(
      [=](ids& xs) mutable {
        acc->insert(acc->end(), xs.begin(), xs.end());
        stop_each(self, std::move(which), why, acc, done);
      },
      [=](caf::error&) mutable { stop_each(self, std::move(which), why, acc, done); });
}

/// Starts the given children in order (their starts overlap); `done` gets
/// the instances started.
void start_each(group_self self, const std::vector<size_t>& which, const reason& why,
                std::function<void(ids&)> done) {
  auto& s = self->state;
  auto parts = std::make_shared<std::vector<ids>>(which.size());
  auto left = std::make_shared<size_t>(which.size());
  if (which.empty()) {
    ids none;
    return done(none);
  }
  for (size_t k = 0; k < which.size(); ++k) {
    auto i = which[k];
    auto one = [=](ids* x) {
      if (x) (*parts)[k] = std::move(*x);
      if (--*left == 0) {
        ids acc;
        for (auto& p : *parts) acc.insert(acc.end(), p.begin(), p.end());
        done(acc);
      }
    };
    self->request(s.children[i], caf::infinite, start_atom::value, s.spec->children[i].name(), why)
      .then([=](ids& x) { one(&x); }, [=](caf::error&) { one(nullptr); });
  }
}

/// Restarts children the OTP way: stop them in reverse order, start in order.
void restart_each(group_self self, std::vector<size_t> which, reason why,
                  std::function<void(ids&)> done = [](ids&) {}) {
  stop_each(self, which, why, std::make_shared<ids>(), [self, which, why, done](ids&) {
    if (!self->state.want_up) {
      ids none;
      return done(none);
    }
    start_each(self, which, why, done);
  });
}

/// The group gives up: every child stops (reverse order), the group is
/// failed, and its parent hears of it as one restart event.
void give_up(group_self self, std::string why) {
  auto& s = self->state;
  s.failed = true;
  s.want_up = false;
  s.reason = why;
  emit(self, event_kind::gave_up, s.spec->name, why);
  stop_each(self, all_children(self),
            {restart_cause::escalation, "escalation: " + label(self) + " gave up"},
            std::make_shared<ids>(), [self, why](ids&) {
              auto& s = self->state;
              if (s.parent)
                self->request(s.parent, std::chrono::seconds(10),
                              child_event{s.spec->name, true, label(self) + ": " + why})
                  .then([](bool) {}, [](caf::error&) {});
            });
}

std::string describe_window(const group_supervisor_state& s) {
  return "intensity " + std::to_string(*s.spec->intensity) + " in "
         + std::to_string(s.spec->period.count()) + "s exceeded";
}

/// One restart event from child `ev.child`. Returns whether the child should
/// carry on with its own decision.
bool on_child_event(group_self self, child_event& ev) {
  auto& s = self->state;
  if (s.failed || !s.want_up) return false;
  size_t idx = s.children.size();
  for (size_t i = 0; i < s.children.size(); ++i)
    if (s.spec->children[i].name() == ev.child) idx = i;
  if (idx == s.children.size()) return true;
  if (s.window && !s.window->add(clock::now())) {
    give_up(self, describe_window(s) + ", last: " + ev.reason);
    return false;
  }
  std::vector<size_t> siblings;
  switch (s.spec->strategy) {
    case strategy_kind::one_for_one:
      break;
    case strategy_kind::one_for_all:
      for (size_t i = 0; i < s.children.size(); ++i)
        if (i != idx) siblings.push_back(i);
      break;
    case strategy_kind::rest_for_one:
      for (size_t i = idx + 1; i < s.children.size(); ++i) siblings.push_back(i);
      break;
  }
  auto strategy = std::string{to_string(s.spec->strategy)};
  if (ev.gave_up) {
    // Only a group that limits its restarts takes over a failed child;
    // without a limit, a child that gave up stays failed (no endless loop).
    if (!s.window) return true;
    if (s.spec->strategy == strategy_kind::one_for_all) siblings = all_children(self);
    else siblings.insert(siblings.begin(), idx);
    reason why{restart_cause::escalation, "escalation: " + ev.reason};
    emit(self, event_kind::restarting, ev.child, why.text, why.cause);
    restart_each(self, siblings, why);
    return false;
  }
  if (!siblings.empty()) {
    reason why{restart_cause::sibling, "sibling: " + ev.reason + " (" + strategy + ")"};
    emit(self, event_kind::restarting_siblings, ev.child, why.text, why.cause);
    restart_each(self, siblings, why);
  }
  return true;
}

/// The child whose subtree holds `addr` ("web.api", "web.api#1", "web.db"),
/// or an invalid handle.
caf::actor route(const group_supervisor_state& s, const std::string& addr) {
  auto base = addr.substr(0, addr.find('#'));
  for (size_t i = 0; i < s.children.size(); ++i) {
    const auto& name = s.spec->children[i].name();
    if (base == name || base.compare(0, name.size() + 1, name + ".") == 0) return s.children[i];
  }
  return {};
}

caf::error nothing_named(const std::string& addr) {
  return caf::make_error(caf::sec::invalid_argument, "no app or group named '" + addr + "'");
}

/// Passes a request down to `to` and its answer back up.
template <class T, class... Ts>
caf::result<T> forward(group_self self, const caf::actor& to, Ts... xs) {
  auto rp = self->make_response_promise<T>();
  self->request(to, caf::infinite, xs...)
    .then([rp](T& x) mutable { rp.deliver(std::move(x)); },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

/// For an address below this group: forwards the command to the child whose
/// subtree holds it (or answers that nothing is named so). Empty for the
/// group's own name: the caller acts on the whole group.
template <class Atom>
std::optional<caf::result<ids>> pass_down(group_self self, Atom atom, const std::string& addr,
                                          const reason& why) {
  if (addr == self->state.spec->name) return std::nullopt;
  auto to = route(self->state, addr);
  if (!to) return caf::result<ids>{nothing_named(addr)};
  return forward<ids>(self, to, atom, addr, why);
}

/// Wanted up again (by hand or by the parent): a fresh start.
void revive(group_self self) {
  auto& s = self->state;
  s.want_up = true;
  s.failed = false;
  s.reason.clear();
  if (s.window) s.window->reset();
}

/// A group is failed if it gave up or a child is; else running if any child runs.
std::string summarize_group(const group_supervisor_state& s, const std::vector<node_status>& xs) {
  if (s.failed) return "failed";
  bool any_running = false;
  for (auto& x : xs) {
    if (x.state == "failed") return "failed";
    if (x.state != "stopped") any_running = true;
  }
  return any_running ? "running" : "stopped";
}

} // namespace

caf::actor spawn_child(group_self self, const node_spec& child) {
  auto me = caf::actor_cast<caf::actor>(self);
  auto& rt = self->state.rt;
  bool counts_first = self->state.spec->intensity.has_value();
  if (child.type == node_spec::kind::app)
    return self->spawn<caf::monitored>(app_supervisor, std::make_shared<const app_spec>(child.app),
                                       me, rt, counts_first);
  return self->spawn<caf::monitored>(group_supervisor,
                                     std::make_shared<const group_spec>(child.group), me, rt);
}

caf::behavior group_supervisor(group_self self, std::shared_ptr<const group_spec> spec,
                               caf::actor parent, runtime_ptr rt) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  if (st.spec->intensity)
    st.window.emplace(*st.spec->intensity,
                      std::chrono::duration_cast<std::chrono::milliseconds>(st.spec->period));
  for (auto& child : st.spec->children) st.children.push_back(spawn_child(self, child));
  log_unexpected(self, label(self));
  if (st.parent) self->monitor(st.parent); // it goes, we go (and our children with us)
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.parent.address()) return self->quit(dm.reason);
    log_error("supervisor={} event=child_terminated reason={} offender=actor",
                  label(self), self->system().render(dm.reason));
  });
  return {
    [=](start_atom) {
      revive(self);
      for (auto& c : self->state.children) self->send(c, start_atom::value);
    },
    [=](stop_atom) -> caf::result<bool> {
      self->state.want_up = false;
      auto rp = self->make_response_promise<bool>();
      stop_each(self, all_children(self), {}, std::make_shared<ids>(),
                [rp](ids&) mutable { rp.deliver(true); });
      return rp;
    },
    [=](start_atom, std::string& addr, reason& why) -> caf::result<ids> {
      if (auto below = pass_down(self, start_atom::value, addr, why)) return std::move(*below);
      revive(self);
      auto rp = self->make_response_promise<ids>();
      start_each(self, all_children(self), why, [rp](ids& xs) mutable { rp.deliver(xs); });
      return rp;
    },
    [=](stop_atom, std::string& addr, reason& why) -> caf::result<ids> {
      if (auto below = pass_down(self, stop_atom::value, addr, why)) return std::move(*below);
      self->state.want_up = false;
      auto rp = self->make_response_promise<ids>();
      stop_each(self, all_children(self), why, std::make_shared<ids>(),
                [rp](ids& xs) mutable { rp.deliver(xs); });
      return rp;
    },
    [=](restart_atom, std::string& addr, reason& why) -> caf::result<ids> {
      if (auto below = pass_down(self, restart_atom::value, addr, why)) return std::move(*below);
      // A whole group restarts like OTP: stop in reverse order, start in order.
      revive(self);
      auto rp = self->make_response_promise<ids>();
      restart_each(self, all_children(self), why, [rp](ids& xs) mutable { rp.deliver(xs); });
      return rp;
    },
    [=](reload_atom, std::string& addr, reason& why) -> caf::result<ids> {
      if (auto below = pass_down(self, reload_atom::value, addr, why)) return std::move(*below);
      return caf::make_error(caf::sec::invalid_argument,
                             "reload names apps or instances, not the group '" + addr + "'");
    },
    [=](child_event& ev) -> bool { return on_child_event(self, ev); },
    [=](scale_atom, std::string& addr, uint32_t n) -> caf::result<uint32_t> {
      auto to = route(self->state, addr);
      if (!to) return nothing_named(addr);
      auto rp = self->make_response_promise<uint32_t>();
      self->request(to, caf::infinite, scale_atom::value, addr, n)
        .then([rp](uint32_t before) mutable { rp.deliver(before); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [=](signal_atom, int sig, std::string& addr) -> caf::result<ids, std::vector<int32_t>> {
      auto to = route(self->state, addr);
      if (addr == self->state.spec->name || !to) return nothing_named(addr);
      auto rp = self->make_response_promise<ids, std::vector<int32_t>>();
      self->request(to, caf::infinite, signal_atom::value, sig, addr)
        .then([rp](ids& xs, std::vector<int32_t>& ps) mutable { rp.deliver(xs, ps); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [=](apply_atom, std::shared_ptr<const group_spec>& next) -> caf::result<apply_report> {
      return reconcile(self, std::move(next));
    },
    [=](halt_atom) {
      for (auto& c : self->state.children) self->send(c, halt_atom::value);
    },
    [=](status_atom) -> caf::result<node_status> {
      auto& s = self->state;
      auto rp = self->make_response_promise<node_status>();
      // No timer per child (see gather): the status caller holds the deadline.
      gather<node_status>(self, s.children, caf::infinite, status_atom::value,
                          [self, rp](std::vector<node_status>& xs) mutable {
                            auto& s = self->state;
                            node_status out;
                            out.name = s.spec->name;
                            out.is_group = true;
                            out.strategy = to_string(s.spec->strategy);
                            out.state = summarize_group(s, xs);
                            out.reason = s.reason;
                            if (s.window)
                              out.intensity_used =
                                static_cast<uint32_t>(s.window->count(clock::now()));
                            out.children = std::move(xs);
                            rp.deliver(std::move(out));
                          });
      return rp;
    },
  };
}

} // namespace arbor::detail
