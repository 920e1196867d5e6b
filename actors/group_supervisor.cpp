#include "group_supervisor.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "app_supervisor.hpp"
#include "arbor/messages.hpp"
#include "common.hpp"

namespace arbor::detail {

namespace {

using self_ptr = caf::stateful_actor<group_supervisor_state>*;
using ids = std::vector<std::string>;

const std::string& label(self_ptr self) {
  static const std::string root = "root";
  return self->state.spec->name.empty() ? root : self->state.spec->name;
}

/// Stops children[i-1], then the one before it, ..., collecting what each
/// stopped, then calls `done`.
void stop_from(self_ptr self, size_t i, std::shared_ptr<ids> acc,
               std::function<void(ids&)> done) {
  if (i == 0) return done(*acc);
  auto& s = self->state;
  auto child = s.children[i - 1];
  auto name = s.spec->children[i - 1].name();
  self->request(child, caf::infinite, stop_atom::value, name)
    .then(
      [=](ids& xs) {
        acc->insert(acc->end(), xs.begin(), xs.end());
        stop_from(self, i - 1, acc, done);
      },
      [=](caf::error&) { stop_from(self, i - 1, acc, done); });
}

/// Starts every child in order; `done` gets the instances started.
void start_children(self_ptr self, std::function<void(ids&)> done) {
  auto& s = self->state;
  std::vector<caf::actor> xs;
  for (size_t i = 0; i < s.children.size(); ++i) xs.push_back(s.children[i]);
  auto acc = std::make_shared<ids>();
  auto left = std::make_shared<size_t>(xs.size());
  if (xs.empty()) return done(*acc);
  auto parts = std::make_shared<std::vector<ids>>(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    auto one = [=](ids* x) {
      if (x) (*parts)[i] = std::move(*x);
      if (--*left == 0) {
        for (auto& p : *parts) acc->insert(acc->end(), p.begin(), p.end());
        done(*acc);
      }
    };
    self->request(xs[i], caf::infinite, start_atom::value, s.spec->children[i].name())
      .then([=](ids& x) { one(&x); }, [=](caf::error&) { one(nullptr); });
  }
}

/// A group is failed if a child is, else running if any child runs.
std::string summarize_group(const std::vector<node_status>& xs) {
  bool any_running = false;
  for (auto& x : xs) {
    if (x.state == "failed") return "failed";
    if (x.state != "stopped") any_running = true;
  }
  return any_running ? "running" : "stopped";
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
caf::result<T> forward(self_ptr self, const caf::actor& to, Ts... xs) {
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
std::optional<caf::result<ids>> pass_down(self_ptr self, Atom atom, const std::string& addr) {
  if (addr == self->state.spec->name) return std::nullopt;
  auto to = route(self->state, addr);
  if (!to) return caf::result<ids>{nothing_named(addr)};
  return forward<ids>(self, to, atom, addr);
}

} // namespace

caf::actor spawn_child(caf::stateful_actor<group_supervisor_state>* self, const node_spec& child) {
  auto me = caf::actor_cast<caf::actor>(self);
  auto& rt = self->state.rt;
  if (child.type == node_spec::kind::app)
    return self->spawn<caf::monitored>(app_supervisor, std::make_shared<const app_spec>(child.app),
                                       me, rt);
  return self->spawn<caf::monitored>(group_supervisor,
                                     std::make_shared<const group_spec>(child.group), me, rt);
}

caf::behavior group_supervisor(caf::stateful_actor<group_supervisor_state>* self,
                               std::shared_ptr<const group_spec> spec, caf::actor parent,
                               runtime_ptr rt) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.parent = std::move(parent);
  st.rt = std::move(rt);
  for (auto& child : st.spec->children) st.children.push_back(spawn_child(self, child));
  log_unexpected(self, label(self));
  if (st.parent) self->monitor(st.parent); // it goes, we go (and our children with us)
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.parent.address()) return self->quit(dm.reason);
    spdlog::error("supervisor={} event=child_terminated reason={} offender=actor",
                  label(self), self->system().render(dm.reason));
  });
  return {
    [=](start_atom) {
      self->state.want_up = true;
      for (size_t i = 0; i < self->state.children.size(); ++i)
        self->send(self->state.children[i], start_atom::value);
    },
    [=](stop_atom) -> caf::result<bool> {
      self->state.want_up = false;
      auto rp = self->make_response_promise<bool>();
      stop_from(self, self->state.children.size(), std::make_shared<ids>(),
                [rp](ids&) mutable { rp.deliver(true); });
      return rp;
    },
    [=](start_atom, std::string& addr) -> caf::result<ids> {
      if (auto below = pass_down(self, start_atom::value, addr)) return std::move(*below);
      self->state.want_up = true;
      auto rp = self->make_response_promise<ids>();
      start_children(self, [rp](ids& xs) mutable { rp.deliver(xs); });
      return rp;
    },
    [=](stop_atom, std::string& addr) -> caf::result<ids> {
      if (auto below = pass_down(self, stop_atom::value, addr)) return std::move(*below);
      self->state.want_up = false;
      auto rp = self->make_response_promise<ids>();
      stop_from(self, self->state.children.size(), std::make_shared<ids>(),
                [rp](ids& xs) mutable { rp.deliver(xs); });
      return rp;
    },
    [=](restart_atom, std::string& addr) -> caf::result<ids> {
      if (auto below = pass_down(self, restart_atom::value, addr)) return std::move(*below);
      // A whole group restarts like OTP: stop in reverse order, start in order.
      self->state.want_up = true;
      auto rp = self->make_response_promise<ids>();
      stop_from(self, self->state.children.size(), std::make_shared<ids>(),
                [self, rp](ids&) mutable {
                  start_children(self, [rp](ids& xs) mutable { rp.deliver(xs); });
                });
      return rp;
    },
    [=](scale_atom, std::string& addr, uint32_t n) -> caf::result<uint32_t> {
      auto to = route(self->state, addr);
      if (!to) return nothing_named(addr);
      auto rp = self->make_response_promise<uint32_t>();
      self->request(to, caf::infinite, scale_atom::value, addr, n)
        .then(
          [self, rp, addr, n](uint32_t before) mutable {
            // Keep our copy of the spec in step, so `apply` compares the new
            // config with what runs.
            auto& s = self->state;
            for (size_t i = 0; i < s.spec->children.size(); ++i) {
              auto& c = s.spec->children[i];
              if (c.type == node_spec::kind::app && c.app.name == addr) {
                auto copy = std::make_shared<group_spec>(*s.spec);
                copy->children[i].app.instances = n;
                s.spec = copy;
              }
            }
            rp.deliver(before);
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [=](signal_atom, int sig, std::string& addr) -> caf::result<ids, std::vector<int32_t>> {
      auto to = route(self->state, addr);
      if (addr == self->state.spec->name || !to) {
        // Groups forward to their apps one by one in the control actor.
        return nothing_named(addr);
      }
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
      gather<node_status>(self, s.children, std::chrono::seconds(10), status_atom::value,
                          [rp, spec = s.spec](std::vector<node_status>& xs) mutable {
                            node_status out;
                            out.name = spec->name;
                            out.is_group = true;
                            out.strategy = to_string(spec->strategy);
                            out.state = summarize_group(xs);
                            out.children = std::move(xs);
                            rp.deliver(std::move(out));
                          });
      return rp;
    },
  };
}

} // namespace arbor::detail
