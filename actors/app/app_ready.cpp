// An app's readiness (all instances ready), its depends_on wait, and the
// PORT each run gets.

#include "app_supervisor.hpp"

#include <algorithm>

#include "arbor/messages.hpp"
#include "common.hpp"
#include "event_bus.hpp"
#include "internal_messages.hpp"

namespace arbor::detail {

namespace {

/// The app is ready when every instance is; the board tells dependents.
void publish(app_self self) {
  auto& s = self->state;
  bool all = !s.instances.empty();
  for (size_t i = 0; i < s.instances.size(); ++i) all = all && i < s.ready.size() && s.ready[i];
  s.rt->board.set(s.spec->name, all);
}

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

} // namespace

bool sent_by(app_self self, const caf::actor& a) {
  return a && self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(a);
}

void app_event(app_self self, event_kind what, std::string reason) {
  auto& s = self->state;
  event e;
  e.at_ns = wall_now_ns();
  e.supervisor = s.spec->name;
  e.what = what;
  e.offender = s.spec->name;
  e.reason = std::move(reason);
  e.state = proc_state::running;
  self->send(s.rt->bus, std::move(e));
}

uint16_t home_port(const app_supervisor_state& s, size_t index) {
  if (s.spec->port == 0) return 0;
  return static_cast<uint16_t>(std::min<uint32_t>(s.spec->port + index, 65535));
}

uint16_t temporary_port(const app_supervisor_state& s) {
  auto used = [&s](uint32_t p) {
    for (auto q : s.ports)
      if (q == p) return true;
    return s.reload && s.reload->repl && s.reload->port == p;
  };
  for (uint32_t p = s.spec->port + static_cast<uint32_t>(s.instances.size()); p <= 65535; ++p)
    if (!used(p)) return static_cast<uint16_t>(p);
  return 0;
}

void start_when_ready(app_self self, const std::vector<size_t>& which, const reason& why,
                      std::function<void()> done) {
  auto& s = self->state;
  auto missing = s.rt->board.missing(s.spec->depends_on);
  if (missing.empty() && !s.waiting) return start_some(self, which, why, std::move(done));
  for (auto i : which)
    if (std::find(s.pending.begin(), s.pending.end(), i) == s.pending.end()) s.pending.push_back(i);
  s.pending_why = why;
  if (!s.waiting) {
    s.waiting = true;
    app_event(self, event_kind::waiting,
              "waiting for " + joined(missing) + " to be ready (depends_on)");
    s.rt->board.wait(caf::actor_cast<caf::actor>(self));
  }
  if (missing.empty()) on_deps_changed(self); // waiting already: start with the rest now
  done();
}

void on_deps_changed(app_self self) {
  auto& s = self->state;
  if (!s.waiting) return;
  if (!s.rt->board.missing(s.spec->depends_on).empty()) {
    s.rt->board.wait(caf::actor_cast<caf::actor>(self));
    return;
  }
  s.waiting = false;
  auto which = std::move(s.pending);
  s.pending.clear();
  app_event(self, event_kind::dependencies_ready,
            "starting: " + joined(s.spec->depends_on) + " ready");
  start_some(self, which, s.pending_why);
}

void cancel_waiting(app_self self) {
  self->state.waiting = false;
  self->state.pending.clear();
}

void on_instance_ready(app_self self, uint32_t index, bool ok) {
  auto& s = self->state;
  if (from_instance(self, index)) {
    if (s.ready.size() < s.instances.size()) s.ready.resize(s.instances.size(), false);
    s.ready[index] = ok;
    return publish(self);
  }
  reload_event(self, ok, ok ? "" : "lost readiness");
}

} // namespace arbor::detail
