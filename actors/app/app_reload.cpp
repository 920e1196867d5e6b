// Rolling reload: for each instance in turn, a replacement runs beside it
// and must become ready before the old run is stopped gracefully, so the app
// never has fewer ready instances than before. A replacement that exits or is
// not ready in time is stopped and the old run kept: the reload aborts there.

#include "app_supervisor.hpp"

#include "arbor/messages.hpp"
#include "common.hpp"
#include "internal_messages.hpp"
#include "process/process_actor.hpp"
#include "os/port_share.hpp"
#include "process/process_health.hpp"

namespace arbor::detail {

namespace {

using ids = std::vector<std::string>;

/// How long a replacement may take to become ready.
std::chrono::milliseconds ready_timeout(const app_spec& a) {
  using namespace std::chrono_literals;
  switch (ready_mode_of(a)) {
    case ready_mode::check: {
      const auto& h = a.health;
      auto per_failure = h.interval + h.timeout;
      return std::max(h.start_period, h.interval) + per_failure * std::max<uint32_t>(h.failures, 1);
    }
    case ready_mode::notify: return std::max<std::chrono::milliseconds>(60s, a.min_uptime * 2);
    case ready_mode::uptime: break;
  }
  return a.min_uptime + 10s;
}

void next(app_self self);

void finish(app_self self) {
  auto& s = self->state;
  auto job = std::move(*s.reload);
  s.reload.reset();
  app_event(self, event_kind::reloaded, std::to_string(job.done.size()) + " instance(s) replaced");
  job.finished(std::move(job.done), {});
}

void replace(app_self self, size_t i, uint16_t port);

/// The replacement is ready: it becomes the instance; the old run stops.
/// One that ran on a temporary port is replaced in turn by a run on the
/// instance's own port, so instance i is on port+i after every reload.
void swap_in(app_self self) {
  auto& s = self->state;
  auto& job = *s.reload;
  auto i = job.index;
  auto old = s.instances[i];
  s.instances[i] = job.repl;
  s.ports[i] = job.port;
  if (s.ready.size() < s.instances.size()) s.ready.resize(s.instances.size(), false);
  s.ready[i] = true;
  if (i < s.memory.size()) s.memory[i].reset();
  bool home = job.then_home;
  if (!home) job.done.push_back(s.spec->name + "#" + std::to_string(i));
  job.repl = caf::actor{};
  ++s.reload_gen; // its timeout is stale
  auto then = [self, old, home, i] {
    self->demonitor(old);
    self->send_exit(old, caf::exit_reason::user_shutdown);
    if (!home || !self->state.reload) return next(self);
    self->state.reload->then_home = false;
    replace(self, i, home_port(self->state, i));
  };
  self->request(old, caf::infinite, stop_atom::value,
                reason{restart_cause::none, home ? "reload: replaced by a ready run on a "
                                                   "temporary port"
                                                 : "reload: replaced by a ready run"})
    .then([then](bool) { then(); }, [then](caf::error&) { then(); });
}

/// Starts a replacement for instance `i` on `port`, timed by ready_timeout.
void replace(app_self self, size_t i, uint16_t port) {
  auto& s = self->state;
  auto& job = *s.reload;
  job.index = i;
  job.port = port;
  job.gen = ++s.reload_gen;
  job.repl = self->spawn<caf::monitored>(process_actor, s.spec, static_cast<uint32_t>(i),
                                         links_for(self, port, true), s.rt);
  auto timeout = ready_timeout(*s.spec);
  self->delayed_send(self, timeout, reload_timeout_atom::value, job.gen);
  // Its answer (spawned or not) is not needed: exits and failures arrive as
  // run_ended / spawn_failed, readiness as ready_atom.
  self->request(job.repl, std::chrono::seconds(30), start_atom::value, job.why)
    .then([](bool) {}, [](caf::error&) {});
}

void next(app_self self) {
  auto& s = self->state;
  if (!s.reload) return;
  auto& job = *s.reload;
  if (job.left.empty()) return finish(self);
  auto i = job.left.front();
  job.left.erase(job.left.begin());
  if (i >= s.instances.size()) return next(self);
  // The replacement shares the instance's own port when the run holding it
  // lets it (SO_REUSEPORT, same user); otherwise it is checked on a
  // temporary port first.
  auto port = home_port(s, i);
  auto temporary = port == 0 || os::port_shareable(port) ? 0 : temporary_port(s);
  job.then_home = temporary != 0;
  replace(self, i, job.then_home ? temporary : port);
}

} // namespace

caf::result<ids> reload(app_self self, const std::string& addr, reason why) {
  auto& s = self->state;
  auto which = select(s, addr);
  if (which.empty())
    return caf::make_error(caf::sec::invalid_argument, "no instance named '" + addr + "'");
  if (s.reload)
    return caf::make_error(caf::sec::invalid_argument,
                           "a reload of " + s.spec->name + " is already in progress");
  if (!s.want_up)
    return caf::make_error(caf::sec::invalid_argument,
                           s.spec->name + " is not running: start it instead of reloading");
  if (s.waiting)
    return caf::make_error(caf::sec::invalid_argument,
                           s.spec->name + " is waiting for its depends_on: nothing to reload yet");
  auto rp = self->make_response_promise<ids>();
  begin_reload(self, std::move(which), why, [rp](ids done, std::string aborted) mutable {
    if (aborted.empty()) rp.deliver(std::move(done));
    else rp.deliver(caf::make_error(caf::sec::runtime_error, std::move(aborted)));
  });
  return rp;
}

void begin_reload(app_self self, std::vector<size_t> which, const reason& why,
                  std::function<void(ids, std::string)> finished) {
  auto& s = self->state;
  reload_job job;
  job.left = std::move(which);
  job.why.cause = why.cause;
  job.why.text = why.text.empty() || why.text == "manual" ? "reload" : "reload: " + why.text;
  job.finished = std::move(finished);
  s.reload = std::move(job);
  app_event(self, event_kind::reloading,
            std::to_string(s.reload->left.size()) + " instance(s), one at a time; "
              + "each replacement must be ready within "
              + std::to_string(ready_timeout(*s.spec).count()) + "ms");
  next(self);
}

bool reload_event(app_self self, bool ready, const std::string& what) {
  auto& s = self->state;
  if (!s.reload || !sent_by(self, s.reload->repl)) return false;
  if (ready) swap_in(self);
  else abort_reload(self, "replacement " + what + " before it was ready");
  return true;
}

void on_reload_timeout(app_self self, uint64_t gen) {
  auto& s = self->state;
  if (!s.reload || gen != s.reload_gen || !s.reload->repl) return;
  abort_reload(self, "replacement not ready within "
                       + std::to_string(ready_timeout(*s.spec).count()) + "ms");
}

void abort_reload(app_self self, const std::string& why) {
  auto& s = self->state;
  if (!s.reload) return;
  auto job = std::move(*s.reload);
  s.reload.reset();
  ++s.reload_gen;
  auto id = s.spec->name + "#" + std::to_string(job.index);
  // Aborted on the way back to the own port: the run on the temporary one
  // stays the instance (and keeps that PORT until the next reload).
  auto kept = job.index < s.ports.size() && s.ports[job.index] != home_port(s, job.index)
                ? "; the run on temporary port " + std::to_string(s.ports[job.index]) + " is kept"
                : std::string{"; the old run is kept"};
  auto text = "reload of " + s.spec->name + " aborted at " + id + ": " + why + kept
              + (job.done.empty() ? std::string{} : " (" + std::to_string(job.done.size())
                                                      + " instance(s) replaced before)");
  app_event(self, event_kind::reload_aborted, text);
  if (job.repl) {
    auto repl = job.repl;
    self->request(repl, caf::infinite, stop_atom::value,
                  reason{restart_cause::none, "reload aborted"})
      .then(
        [self, repl](bool) {
          self->demonitor(repl);
          self->send_exit(repl, caf::exit_reason::user_shutdown);
        },
        [self, repl](caf::error&) {
          self->demonitor(repl);
          self->send_exit(repl, caf::exit_reason::user_shutdown);
        });
  }
  job.finished(std::move(job.done), text);
}

} // namespace arbor::detail
