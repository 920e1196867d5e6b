// The app supervisor's commands on sets of instances, and its two triggers
// (cron schedule, memory limit).

#include "app_supervisor.hpp"

#include <algorithm>

#include "log.hpp"

#include "arbor/messages.hpp"
#include "common.hpp"
#include "internal_messages.hpp"
#include "process/process_actor.hpp"

namespace arbor::detail {

std::vector<size_t> select(const app_supervisor_state& s, const std::string& addr) {
  std::vector<size_t> out;
  const auto& name = s.spec->name;
  if (addr == name) {
    for (size_t i = 0; i < s.instances.size(); ++i) out.push_back(i);
  } else if (addr.size() > name.size() + 1 && addr.compare(0, name.size() + 1, name + "#") == 0) {
    auto i = std::stoul(addr.substr(name.size() + 1));
    if (i < s.instances.size()) out.push_back(i);
  }
  return out;
}

std::vector<std::string> ids_of(const app_supervisor_state& s, const std::vector<size_t>& which) {
  std::vector<std::string> ids;
  for (auto i : which) ids.push_back(s.spec->name + "#" + std::to_string(i));
  return ids;
}

void start_some(app_self self, const std::vector<size_t>& which, const reason& why,
                std::function<void()> done) {
  auto& s = self->state;
  std::vector<caf::actor> xs;
  for (auto i : which) {
    if (i < s.memory.size()) s.memory[i].reset();
    xs.push_back(s.instances[i]);
  }
  gather<bool>(self, xs, std::chrono::seconds(30), caf::make_message(start_atom::value, why),
               [done](std::vector<bool>&) { done(); });
}

void stop_some(app_self self, const std::vector<size_t>& which, const reason& why,
               std::function<void()> done) {
  std::vector<caf::actor> xs;
  for (auto i = which.rbegin(); i != which.rend(); ++i) xs.push_back(self->state.instances[*i]);
  gather<bool>(self, xs, std::chrono::hours(24), caf::make_message(stop_atom::value, why),
               [done](std::vector<bool>&) { done(); });
}

void roll(app_self self, std::vector<size_t> which, reason why, std::function<void()> done) {
  if (which.empty()) return done();
  auto i = which.front();
  which.erase(which.begin());
  if (i >= self->state.instances.size()) return roll(self, std::move(which), std::move(why), done);
  stop_some(self, {i}, why, [self, i, which, why, done]() mutable {
    if (!self->state.want_up) return done();
    start_when_ready(self, {i}, why, [self, which, why, done]() mutable {
      roll(self, std::move(which), std::move(why), done);
    });
  });
}

instance_links links_for(app_self self, uint16_t port, bool trial) {
  auto& s = self->state;
  instance_links l;
  l.app = caf::actor_cast<caf::actor>(self);
  l.group = s.parent;
  l.group_counts_first = s.group_counts_first;
  l.port = port;
  l.trial = trial;
  return l;
}

void spawn_instance(app_self self) {
  auto& s = self->state;
  auto i = static_cast<uint32_t>(s.instances.size());
  auto port = home_port(s, i);
  s.instances.push_back(
    self->spawn<caf::monitored>(process_actor, s.spec, i, links_for(self, port, false), s.rt));
  s.ports.push_back(port);
  s.ready.resize(s.instances.size(), false);
  if (s.spec->max_memory > 0) s.memory.emplace_back(s.spec->max_memory);
}

caf::result<uint32_t> scale(app_self self, uint32_t n) {
  auto& s = self->state;
  // The running count is s.instances.size(); the spec keeps the count the
  // config asked for, and the journal records this one for a new daemon.
  auto before = static_cast<uint32_t>(s.instances.size());
  if (n == before) return before;
  if (s.rt->survival) {
    s.rt->survival->set_scale(s.spec->name, n);
    for (auto i = n; i < before; ++i) s.rt->survival->erase(s.spec->name, i);
  }
  if (n >= before) {
    std::vector<size_t> added;
    for (auto i = before; i < n; ++i) {
      spawn_instance(self);
      added.push_back(i);
    }
    if (!s.want_up) return before;
    auto rp = self->make_response_promise<uint32_t>();
    start_when_ready(self, added, {restart_cause::scaled, "scaled up"},
                     [rp, before]() mutable { rp.deliver(before); });
    return rp;
  }
  std::vector<size_t> surplus;
  for (auto i = n; i < before; ++i) surplus.push_back(i);
  auto rp = self->make_response_promise<uint32_t>();
  stop_some(self, surplus, {restart_cause::none, "scaled down"}, [self, rp, n, before]() mutable {
    auto& s = self->state;
    for (auto i = n; i < before && i < s.instances.size(); ++i) {
      self->demonitor(s.instances[i]);
      self->send_exit(s.instances[i], caf::exit_reason::user_shutdown);
    }
    if (s.instances.size() > n) {
      s.instances.resize(n);
      s.ports.resize(n);
      s.ready.resize(n);
      if (s.memory.size() > n) s.memory.resize(n, memory_watch{s.spec->max_memory});
    }
    rp.deliver(before);
    s.rt->board.set(s.spec->name, n > 0 && std::all_of(s.ready.begin(), s.ready.end(),
                                                       [](bool r) { return r; }));
  });
  return rp;
}

void arm_cron(app_self self) {
  auto& s = self->state;
  if (!s.cron || !s.want_up) return;
  auto now = s.wall_clock();
  auto next = config::next_fire(*s.cron, now, s.tz ? *s.tz : config::time_zone::utc());
  if (!next) {
    log_warn("supervisor={} event=cron_never reason=\"'{}' never fires\"", s.spec->name,
                 s.spec->cron_restart);
    return;
  }
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*next - now);
  self->delayed_send(self, delay + std::chrono::milliseconds(1), cron_atom::value, ++s.cron_gen,
                     static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            next->time_since_epoch())
                                            .count()));
}

void on_memory(app_self self, uint32_t index, uint64_t rss) {
  auto& s = self->state;
  if (index >= s.memory.size() || index >= s.instances.size() || !s.want_up) return;
  if (!s.memory[index].add(rss)) return;
  auto mib = [](uint64_t b) { return std::to_string((b + (1u << 19)) >> 20) + "M"; };
  auto why = "memory_limit: " + mib(rss) + " > max_memory " + mib(s.spec->max_memory);
  self->send(s.instances[index], restart_atom::value, reason{restart_cause::memory_limit, why});
}

} // namespace arbor::detail
