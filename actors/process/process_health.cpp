#include "process_health.hpp"

#include "common.hpp"
#include "config/ready_rule.hpp"
#include "internal_messages.hpp"
#include "probe/probe.hpp"

namespace arbor::detail {

namespace {

using clock = std::chrono::steady_clock;

bool live(const process_state& s) {
  return s.pid != 0 && (s.phase() == proc_state::running || s.phase() == proc_state::ready);
}

int64_t ms_since(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count();
}

/// Until the instance is ready by its check, a check on a fixed port counts
/// only once the instance itself listens there (probe/own_port.hpp). So does
/// a reload replacement's check on its {port}: the run it replaces may share
/// that port (SO_REUSEPORT) and answer for it.
std::optional<probe::own_port_rule> own_port(const process_state& s) {
  if (s.ready || ready_mode_of(*s.spec) != ready_mode::check) return std::nullopt;
  auto fixed = config::fixed_port_of(s.spec->health);
  if (!fixed && s.links.trial && s.links.port != 0) {
    auto check = s.spec->health;
    check.target = probe::expand(check.target, s.links.port, s.index);
    fixed = config::fixed_port_of(check);
  }
  if (!fixed) return std::nullopt;
  return probe::own_port_rule{fixed->host, fixed->port,
                              {s.pid, s.spawn_gen, s.spec->name, s.rt->home}};
}

void schedule_probe(process_self self) {
  auto& s = self->state;
  self->delayed_send(self, s.health->next_delay(), probe_atom::value, s.run);
}

void mark_ready(process_self self, std::string how) {
  auto& s = self->state;
  if (s.ready || !live(s)) return;
  s.ready = true;
  fsm_step(self, instance_event::became_ready); // journals
  emit(self, event_kind::ready,
       how + " (" + std::to_string(ms_since(s.started)) + "ms after start)");
  self->send(s.links.app, ready_atom::value, s.index, true);
}

} // namespace

ready_mode ready_mode_of(const app_spec& spec) {
  if (spec.ready == "notify") return ready_mode::notify;
  if (spec.health.type != health_check_spec::kind::none) return ready_mode::check;
  return ready_mode::uptime;
}

std::string notify_socket(process_self self, std::string& error) {
  auto& s = self->state;
  if (ready_mode_of(*s.spec) != ready_mode::notify) return {};
  auto* listener = s.rt->notify(error);
  if (!listener) return {};
  drop_notify(s);
  s.notify_key = s.id + "." + std::to_string(++s.rt->serial);
  auto addr = caf::actor_cast<caf::actor_addr>(self);
  auto path = listener->add(
    s.notify_key,
    [addr](const probe::notify_message& m) {
      auto a = caf::actor_cast<caf::actor>(addr);
      if (!a) return;
      auto* status = m.get("STATUS");
      caf::anon_send(a, notify_atom::value, m.ready(), status ? *status : std::string{});
    },
    &error);
  if (path.empty()) s.notify_key.clear();
  return path;
}

void drop_notify(process_state& s) {
  if (s.notify_key.empty() || !s.rt) return;
  std::string ignored;
  if (auto* listener = s.rt->notify(ignored)) listener->remove(s.notify_key);
  s.notify_key.clear();
}

void begin_run(process_self self) {
  auto& s = self->state;
  ++s.run;
  s.ready = false;
  s.health_detail.clear();
  if (s.spec->health.type != health_check_spec::kind::none) {
    if (s.health) s.health->reset(s.started);
    else s.health.emplace(s.spec->health, s.started);
    schedule_probe(self);
  }
  if (ready_mode_of(*s.spec) == ready_mode::uptime) {
    // An adopted run may have been up for long already.
    auto left = s.spec->min_uptime - std::chrono::milliseconds{ms_since(s.started)};
    self->delayed_send(self, std::max(left, std::chrono::milliseconds{0}), uptime_atom::value,
                       s.run);
  }
}

void end_run(process_self self) {
  auto& s = self->state;
  ++s.run; // checks and timers of the run are stale now
  if (!s.ready) return;
  s.ready = false;
  self->send(s.links.app, ready_atom::value, s.index, false);
}

void on_probe_due(process_self self, uint64_t run) {
  auto& s = self->state;
  if (run != s.run || !live(s) || !s.health) return;
  auto addr = caf::actor_cast<caf::actor_addr>(self);
  s.rt->prober().submit(
    s.spec->health, s.links.port, s.index,
    [addr, run](const probe::probe_result& r) {
      if (auto a = caf::actor_cast<caf::actor>(addr))
        caf::anon_send(a, probed_atom::value, run, r.ok, r.detail,
                       static_cast<int64_t>(r.took.count()));
    },
    own_port(s));
}

void on_probed(process_self self, uint64_t run, bool ok, std::string& detail, int64_t took_ms) {
  auto& s = self->state;
  if (run != s.run || !live(s) || !s.health) return;
  probe::probe_result r{ok, detail, std::chrono::milliseconds{took_ms}};
  auto verdict = s.health->record(r, clock::now());
  s.health_detail = ok ? detail
                       : detail + " (" + std::to_string(s.health->consecutive_failures())
                           + " consecutive)";
  if (verdict == probe::health_event::became_ready
      && ready_mode_of(*s.spec) == ready_mode::check)
    mark_ready(self, "health check passed: " + detail);
  if (verdict == probe::health_event::unhealthy) {
    auto why = "health: " + detail + " (" + std::to_string(s.health->consecutive_failures())
               + " consecutive failures)";
    emit(self, event_kind::unhealthy, why);
    return restart_in_place(self, {restart_cause::health, std::move(why)});
  }
  schedule_probe(self);
}

void on_notify(process_self self, bool ready, std::string& status) {
  auto& s = self->state;
  if (!status.empty()) s.reason = "STATUS=" + status;
  if (ready) mark_ready(self, "READY=1 (sd_notify)");
}

void on_uptime(process_self self, uint64_t run) {
  auto& s = self->state;
  if (run != s.run) return;
  mark_ready(self, "up for min_uptime " + std::to_string(s.spec->min_uptime.count()) + "ms");
}

} // namespace arbor::detail
