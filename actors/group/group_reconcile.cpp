// `apply` for one group: diff the running children against a new spec and
// touch only what changed. Runs as a chain of asynchronous steps (never
// blocking the actor); the children list is replaced at the end.

#include <functional>
#include <memory>

#include "arbor/messages.hpp"
#include "config/targets.hpp"
#include "config/validate.hpp"
#include "group_supervisor.hpp"

namespace arbor::detail {

namespace {

using self_ptr = group_self;
using step = std::function<void(std::function<void()> next)>;
using ids = std::vector<std::string>;

void run_steps(std::shared_ptr<std::vector<step>> steps, size_t i, std::function<void()> done) {
  if (i == steps->size()) return done();
  (*steps)[i]([steps, i, done] { run_steps(steps, i + 1, done); });
}

/// Every app path a child stands for (itself, or all apps of a group).
ids paths_of(const node_spec& n) {
  if (n.type == node_spec::kind::app) return {n.app.name};
  return config::app_paths(n.group);
}

void append(ids& to, const ids& xs) {
  to.insert(to.end(), xs.begin(), xs.end());
}

/// Same app, whatever its instance count? (The running count is the app
/// supervisor's: `arbor scale` changes it without a new spec.)
bool same_but_instances(const app_spec& a, const app_spec& b) {
  auto x = a;
  x.instances = b.instances;
  return x.same_run_spec(b);
}

/// Stops a child and retires its actor.
step retire(self_ptr self, caf::actor child, std::string name) {
  return [self, child, name](std::function<void()> next) {
    self->request(child, caf::infinite, stop_atom::value, name,
                  reason{restart_cause::none, "apply"})
      .then(
        [self, child, name, next](ids&) {
          self->state.rt->board.erase(name);
          if (self->state.rt->survival) self->state.rt->survival->erase_app(name);
          self->demonitor(child);
          self->send_exit(child, caf::exit_reason::user_shutdown);
          next();
        },
        [self, child, name, next](caf::error&) {
          self->state.rt->board.erase(name);
          self->demonitor(child);
          self->send_exit(child, caf::exit_reason::user_shutdown);
          next();
        });
  };
}

/// A changed app: a rolling reload onto the new spec where its supervisor
/// can (it runs and has readiness), then the instance count; else it stops
/// and a new supervisor starts it.
step change(self_ptr self, caf::actor old, std::string name, node_spec n,
            std::shared_ptr<std::vector<caf::actor>> fresh, size_t i,
            std::shared_ptr<apply_report> report) {
  return [=](std::function<void()> go) {
    auto anew = [=] {
      retire(self, old, name)([=] {
        (*fresh)[i] = spawn_child(self, n);
        if (self->state.want_up) self->send((*fresh)[i], start_atom::value);
        go();
      });
    };
    auto spec = std::make_shared<const app_spec>(n.app);
    self->request(old, caf::infinite, apply_atom::value, spec)
      .then(
        [=](bool reloaded) {
          if (!reloaded) return anew();
          (*fresh)[i] = old;
          report->reloaded.push_back(n.app.name);
          self->request(old, caf::infinite, scale_atom::value, n.app.name, n.app.instances)
            .then([go](uint32_t) { go(); }, [go](caf::error&) { go(); });
        },
        [=](caf::error&) { anew(); });
  };
}

} // namespace

caf::result<apply_report> reconcile(self_ptr self, std::shared_ptr<const group_spec> next) {
  auto& s = self->state;
  if (s.spec->name.empty()) {
    // The root sees the whole tree: the constructor's rules and start order.
    tree_spec whole;
    whole.root = *next;
    auto errors = config::validate(whole);
    if (!errors.empty())
      return caf::make_error(caf::sec::invalid_argument, config::to_string(errors));
    next = std::make_shared<const group_spec>(std::move(whole.root));
  }
  auto rp = self->make_response_promise<apply_report>();
  auto report = std::make_shared<apply_report>();
  auto steps = std::make_shared<std::vector<step>>();
  auto old_spec = s.spec;
  auto old_children = s.children;
  auto fresh = std::make_shared<std::vector<caf::actor>>(next->children.size());

  auto find_old = [&](const node_spec& n) -> int {
    for (size_t i = 0; i < old_spec->children.size(); ++i) {
      auto& o = old_spec->children[i];
      if (o.name() == n.name() && o.type == n.type) return static_cast<int>(i);
    }
    return -1;
  };
  std::vector<bool> kept(old_spec->children.size(), false);
  std::vector<int> match(next->children.size(), -1);
  for (size_t i = 0; i < next->children.size(); ++i) {
    match[i] = find_old(next->children[i]);
    if (match[i] >= 0) kept[match[i]] = true;
  }

  // 1. What is gone stops first, in reverse start order.
  for (size_t i = old_spec->children.size(); i-- > 0;) {
    if (kept[i]) continue;
    auto gone = paths_of(old_spec->children[i]);
    append(report->removed, gone);
    steps->push_back(retire(self, old_children[i], old_spec->children[i].name()));
    steps->push_back([self, gone](std::function<void()> next) { // their sockets close
      for (const auto& app : gone) self->state.rt->listeners.release(app);
      next();
    });
  }

  // 2. Then, in the new start order: keep, scale, restart changed, add new.
  for (size_t i = 0; i < next->children.size(); ++i) {
    const auto& n = next->children[i];
    if (match[i] < 0) {
      append(report->added, paths_of(n));
      steps->push_back([self, fresh, i, n](std::function<void()> go) {
        (*fresh)[i] = spawn_child(self, n);
        if (self->state.want_up) self->send((*fresh)[i], start_atom::value);
        go();
      });
      continue;
    }
    auto old = old_children[match[i]];
    const auto& o = old_spec->children[match[i]];
    if (n.type == node_spec::kind::group) {
      (*fresh)[i] = old;
      auto sub = std::make_shared<const group_spec>(n.group);
      steps->push_back([self, old, sub, report](std::function<void()> go) {
        self->request(old, caf::infinite, apply_atom::value, sub)
          .then(
            [report, go](apply_report& r) {
              append(report->added, r.added);
              append(report->removed, r.removed);
              append(report->changed, r.changed);
              append(report->scaled, r.scaled);
              append(report->unchanged, r.unchanged);
              append(report->reloaded, r.reloaded);
              go();
            },
            [go](caf::error&) { go(); });
      });
    } else if (same_but_instances(o.app, n.app)) {
      // The app answers with the count it ran; the same count is no change.
      (*fresh)[i] = old;
      steps->push_back([self, old, report, name = n.app.name, count = n.app.instances](
                         std::function<void()> go) {
        self->request(old, caf::infinite, scale_atom::value, name, count)
          .then(
            [report, name, count, go](uint32_t before) {
              (before == count ? report->unchanged : report->scaled).push_back(name);
              go();
            },
            [report, name, go](caf::error&) {
              report->unchanged.push_back(name);
              go();
            });
      });
    } else {
      report->changed.push_back(n.app.name);
      steps->push_back(change(self, old, o.name(), n, fresh, i, report));
    }
  }

  // 3. The group now is the new spec.
  run_steps(steps, 0, [self, rp, report, fresh, next]() mutable {
    auto& s = self->state;
    s.children = std::move(*fresh);
    if (next->intensity != s.spec->intensity || next->period != s.spec->period) {
      s.window.reset();
      if (next->intensity)
        s.window.emplace(*next->intensity,
                         std::chrono::duration_cast<std::chrono::milliseconds>(next->period));
    }
    s.spec = next;
    rp.deliver(std::move(*report));
  });
  return rp;
}

} // namespace arbor::detail
