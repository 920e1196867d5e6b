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
#include "process/process_actor.hpp"
#include "runtime.hpp"

namespace arbor::detail {

/// Supervises the instances of one app: what they have in common — scale,
/// rolling reload, memory limit (memory_watch per instance, fed by the
/// sampler), cron restarts, depends_on. Each instance restarts itself (its
/// process actor owns the restart policy) and tells the app's group.
///
/// start_atom / stop_atom -> bool       the whole app (from its group)
/// (start|stop|restart_atom, addr, why) -> ids   the app or one instance
/// (scale_atom, addr, n) -> previous n; (signal_atom, sig, addr) -> ids, pids
/// status_atom -> node_status
/// A rolling reload in progress (app_reload.cpp): one instance at a time, a
/// replacement is started beside it and must become ready before the old
/// run is stopped.
struct reload_job {
  std::vector<size_t> left;              ///< instances still to replace, in order
  size_t index = 0;                      ///< the one being replaced now
  caf::actor repl;                       ///< its replacement (not yet an instance)
  uint16_t port = 0;                     ///< the replacement's PORT
  /// The instance's own port could not be shared: the replacement runs on a
  /// temporary one, and once it is the instance a second replacement takes
  /// the own port back.
  bool then_home = false;
  uint64_t gen = 0;                      ///< tags the readiness timeout
  arbor::reason why;
  std::vector<std::string> done;         ///< ids replaced so far
  /// Called once at the end: the ids replaced, and the reason it was
  /// aborted ("" when every instance was replaced).
  std::function<void(std::vector<std::string> done, std::string aborted)> finished;
};

struct app_supervisor_state {
  static inline const char* name = "app_supervisor";
  std::shared_ptr<const app_spec> spec;
  caf::actor parent;
  runtime_ptr rt;
  bool group_counts_first = false;         ///< the group limits intensity (told to instances)
  std::vector<caf::actor> instances;       ///< index order
  std::vector<uint16_t> ports;             ///< PORT of each instance's runs (0 = none)
  std::vector<bool> ready;                 ///< each instance's readiness
  bool waiting = false;                    ///< wanted up, waiting for its depends_on
  std::vector<size_t> pending;             ///< instances to start once they are ready
  arbor::reason pending_why;
  std::optional<reload_job> reload;
  uint64_t reload_gen = 0;
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

/// `parent`: the app's group. `group_counts_first`: the group limits
/// restart intensity, so each instance asks it before every restart.
caf::behavior app_supervisor(app_self self, std::shared_ptr<const app_spec> spec,
                             caf::actor parent, runtime_ptr rt, bool group_counts_first);

/// How a new instance (or a reload's replacement) at `index` is linked.
instance_links links_for(app_self self, uint16_t port, bool trial);

/// The state an app shows, from its instances' states (the most telling one).
std::string summarize(const std::vector<instance_status>& xs);

// Commands on sets of instances (app_commands.cpp).

/// The instance indexes `addr` names: all for the app's own name, one for
/// "name#i"; empty if it names nothing here.
std::vector<size_t> select(const app_supervisor_state& s, const std::string& addr);
std::vector<std::string> ids_of(const app_supervisor_state& s, const std::vector<size_t>& which);
/// Starts instances (counters reset) at once, depends_on or not: every start
/// path goes through start_when_ready. Then `done` once each spawned or failed.
void start_some(app_self self, const std::vector<size_t>& which, const reason& why,
                std::function<void()> done = [] {});
/// Stops instances (all at once, highest index first), then `done`.
void stop_some(app_self self, const std::vector<size_t>& which, const reason& why,
               std::function<void()> done = [] {});
/// Restarts instances one after the other (each stopped, then started once
/// its depends_on are ready).
void roll(app_self self, std::vector<size_t> which, reason why,
          std::function<void()> done = [] {});
void spawn_instance(app_self self);
/// Sets the instance count; surplus instances (highest first) stop and retire.
caf::result<uint32_t> scale(app_self self, uint32_t n);
/// Registers the app's `watch` paths with the runtime's watcher (app_watch.cpp).
void start_watching(app_self self);
/// A watched path changed (debounced): a rolling reload or restart.
void on_file_changed(app_self self, const std::string& path);
/// Arms the cron timer for the next fire time, if the app has a schedule.
void arm_cron(app_self self);
/// A sample of one instance's process tree: restarts it past max_memory.
void on_memory(app_self self, uint32_t index, uint64_t rss);

// Readiness and dependencies (app_ready.cpp).

/// Whether the current message comes from `a`.
bool sent_by(app_self self, const caf::actor& a);
/// Whether it comes from the actor now at `index` (not from a reload's
/// replacement, nor from an instance retired meanwhile).
inline bool from_instance(app_self self, uint32_t index) {
  return index < self->state.instances.size() && sent_by(self, self->state.instances[index]);
}

/// Publishes an event about the app itself.
void app_event(app_self self, event_kind what, std::string reason);

/// The PORT of instance `index`'s runs: port+index (0 without `port`).
uint16_t home_port(const app_supervisor_state& s, size_t index);
/// A temporary PORT for a reload's replacement that cannot share its
/// instance's own: the first one past the app's instances no run of it holds.
uint16_t temporary_port(const app_supervisor_state& s);
/// Starts `which` once every app in depends_on is ready (at once if so);
/// `done` runs at once either way.
void start_when_ready(app_self self, const std::vector<size_t>& which, const reason& why,
                      std::function<void()> done = [] {});
/// deps_atom: an app became ready; start what waits if nothing is missing now.
void on_deps_changed(app_self self);
/// Forgets a pending start (the app is being stopped).
void cancel_waiting(app_self self);
/// (ready_atom, index, ok) from an instance or a reload's replacement.
void on_instance_ready(app_self self, uint32_t index, bool ok);

// Rolling reload (app_reload.cpp).

caf::result<std::vector<std::string>> reload(app_self self, const std::string& addr,
                                             reason why);
/// Starts a rolling reload of `which` (the caller has checked it may).
void begin_reload(app_self self, std::vector<size_t> which, const reason& why,
                  std::function<void(std::vector<std::string>, std::string)> finished);
/// `apply` of a changed spec (app_respec.cpp): where the app runs and has
/// readiness, a rolling reload puts every instance on the new spec. False
/// when it cannot (the caller then stops the app and starts it anew).
caf::result<bool> respec(app_self self, std::shared_ptr<const app_spec> next);
/// Whether the current message comes from the reload's replacement; if so it
/// is handled as such. `what`: "exited: exit(1)", "could not start: ...".
bool reload_event(app_self self, bool ready, const std::string& what);
void on_reload_timeout(app_self self, uint64_t gen);
/// Stops a reload in progress (the replacement goes, the old run stays).
void abort_reload(app_self self, const std::string& why);

} // namespace arbor::detail
