#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "arbor/spec.hpp"
#include "arbor/state.hpp"
#include "config/cron.hpp"
#include "config/timezone.hpp"
#include "policy/memory_watch.hpp"
#include "policy/restart_tracker.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// Supervises the instances of one app: restart policy, stop_exit_codes,
/// max_restarts/min_uptime and backoff (restart_tracker, one per instance),
/// memory limit (memory_watch per instance, fed by the sampler), cron
/// restarts. Every restart event is first reported to the parent group,
/// which may take over (strategies, intensity).
///
/// start_atom / stop_atom -> bool       the whole app (from its group)
/// (start|stop|restart_atom, addr, why) -> ids   the app or one instance
/// (scale_atom, addr, n) -> previous n; (signal_atom, sig, addr) -> ids, pids
/// status_atom -> node_status
struct app_supervisor_state {
  static inline const char* name = "app_supervisor";
  std::shared_ptr<const app_spec> spec;
  caf::actor parent;
  runtime_ptr rt;
  bool strict = false;                     ///< the group counts every restart first
  std::vector<caf::actor> instances;       ///< index order
  std::vector<restart_tracker> trackers;   ///< one per instance
  std::vector<memory_watch> memory;        ///< one per instance (max_memory set)
  bool want_up = false;
  std::optional<config::cron_expr> cron;   ///< cron_restart, parsed
  std::optional<config::time_zone> tz;
  uint64_t cron_gen = 0;                   ///< tags the armed cron timer
  /// The wall clock cron schedules by (tests inject a simulated one).
  std::function<std::chrono::system_clock::time_point()> wall_clock =
    [] { return std::chrono::system_clock::now(); };
};

using app_self = caf::stateful_actor<app_supervisor_state>*;

/// `strict`: the parent group has a finite intensity.
caf::behavior app_supervisor(app_self self, std::shared_ptr<const app_spec> spec,
                             caf::actor parent, runtime_ptr rt, bool strict);

/// The state an app shows, from its instances' states (the most telling one).
std::string summarize(const std::vector<instance_status>& xs);

// Commands on sets of instances (app_commands.cpp).

/// The instance indexes `addr` names: all for the app's own name, one for
/// "name#i"; empty if it names nothing here.
std::vector<size_t> select(const app_supervisor_state& s, const std::string& addr);
std::vector<std::string> ids_of(const app_supervisor_state& s, const std::vector<size_t>& which);
/// Starts instances (counters reset), then `done` once each spawned or failed.
void start_some(app_self self, const std::vector<size_t>& which, const std::string& why,
                std::function<void()> done = [] {});
/// Stops instances (all at once, highest index first), then `done`.
void stop_some(app_self self, const std::vector<size_t>& which, const std::string& why,
               std::function<void()> done = [] {});
/// Restarts instances one after the other (each stopped, then started).
void roll(app_self self, std::vector<size_t> which, std::string why,
          std::function<void()> done = [] {});
void spawn_instance(app_self self);
/// Sets the instance count; surplus instances (highest first) stop and retire.
caf::result<uint32_t> scale(app_self self, uint32_t n);
/// Arms the cron timer for the next fire time, if the app has a schedule.
void arm_cron(app_self self);
/// A sample of one instance's process tree: restarts it past max_memory.
void on_memory(app_self self, uint32_t index, uint64_t rss);

} // namespace arbor::detail
