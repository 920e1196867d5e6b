#pragma once

// What every actor of one tree shares: the exit watcher, the log pump, the
// sampler, the event bus, the base environment. Actors hold a shared_ptr, so
// all of it outlives the last of them.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>

#include "logs/log_pump.hpp"
#include "probe/notify_listener.hpp"
#include "probe/prober.hpp"
#include "crash_survival.hpp"
#include "keeper_link.hpp"
#include "readiness_board.hpp"
#include "os/cgroup_tree.hpp"
#include "os/exit_watcher.hpp"
#include "os/file_watch.hpp"
#include "os/listen_registry.hpp"
#include "os/proc_stats.hpp"

namespace arbor::detail {

/// Which app supervisor wants the memory samples of which pid (apps with
/// max_memory): the sampler's periodic roots. Written by process actors, read
/// on the sampler thread.
class memory_registry {
public:
  struct entry {
    caf::actor app;
    uint32_t index = 0;
  };
  /// Called (outside the lock) when the first pid is registered: the sampler
  /// sleeps while there is nothing to watch, so this wakes it. Set before
  /// any set(), never after.
  void on_first(std::function<void()> f) { on_first_ = std::move(f); }
  void set(int32_t old_pid, int32_t new_pid, const caf::actor& app, uint32_t index) {
    bool first = false;
    {
      std::lock_guard<std::mutex> g{m_};
      const bool was_empty = by_pid_.empty();
      if (old_pid > 0) by_pid_.erase(old_pid);
      if (new_pid > 0) by_pid_[new_pid] = entry{app, index};
      first = was_empty && !by_pid_.empty();
    }
    if (first && on_first_) on_first_();
  }
  std::optional<entry> find(int32_t pid) const {
    std::lock_guard<std::mutex> g{m_};
    auto i = by_pid_.find(pid);
    if (i == by_pid_.end()) return std::nullopt;
    return i->second;
  }
  std::vector<pid_t> pids() const {
    std::lock_guard<std::mutex> g{m_};
    std::vector<pid_t> out;
    out.reserve(by_pid_.size());
    for (auto& kv : by_pid_) out.push_back(kv.first);
    return out;
  }

private:
  mutable std::mutex m_;
  std::unordered_map<int32_t, entry> by_pid_;
  std::function<void()> on_first_;
};

struct runtime {
  os::exit_watcher watcher;
  memory_registry memory;                ///< before the sampler: it reads this
  caf::actor bus;                        ///< event_bus
  std::string log_dir;                   ///< "" = children's output is discarded
  std::unique_ptr<logs::log_pump> pump;  ///< set when log_dir is
  /// Memory/CPU of the watched process trees: a periodic pass for the
  /// `memory` pids only; status samples the others on demand (sample_now).
  std::unique_ptr<os::sampler> sampler;
  std::vector<std::string> base_env;     ///< "K=V", arbor's environment at start
  readiness_board board;                 ///< which apps are ready (depends_on)
  /// Every app's listening sockets (`listen`): the runtime's, not an actor's,
  /// so they outlive crashes, reloads and an apply that keeps them. Before
  /// the keeper link: it holds copies of them.
  os::listen_registry listeners;
  std::unique_ptr<crash_survival> survival; ///< the journal (daemons only; else null)
  std::unique_ptr<keeper_link> keeper;      ///< the keeper (daemons with a log dir; else null)
  /// Containment: each run in a cgroup of its own (os/cgroup_tree.hpp); null
  /// = process groups, for the reason in containment_note ("" = asked for).
  std::unique_ptr<os::cgroup_tree> cgroups;
  std::string containment_note;
  /// Where notify sockets go ("" = a private directory made when first needed).
  std::string runtime_dir;
  std::atomic<uint64_t> serial{0};       ///< unique suffixes (notify socket keys)
  /// Whose spawns these are, in their ARBOR_ID (os/identity.hpp): the
  /// state_dir, or "" for a tree that keeps no state.
  std::string home;
  /// The last spawn generation handed out: seeded from the wall clock and
  /// raised past any a previous daemon left, so generations grow across
  /// daemons and a newer run always has the larger one.
  std::atomic<uint64_t> generation{0};
  uint64_t next_generation() { return generation.fetch_add(1) + 1; }
  void raise_generation(uint64_t past) {
    auto g = generation.load();
    while (g < past && !generation.compare_exchange_weak(g, past)) {}
  }

  /// The health-check workers, started when the first app with a check runs.
  probe::prober& prober() {
    std::lock_guard<std::mutex> g{lazy_};
    if (!prober_) prober_ = std::make_unique<probe::prober>(2, 256);
    return *prober_;
  }

  /// The environment every instance of `app` shares: base_env with the app's
  /// `env` and ARBOR_APP applied. Built once per app (and again when its
  /// `env` changes), held by the instances' spawn plans, not copied into each.
  std::shared_ptr<const std::vector<std::string>> app_env(
    const std::string& app, const std::vector<std::pair<std::string, std::string>>& env);

  /// The file watcher (watch mode), started when the first app with `watch` runs.
  os::file_watch& files() {
    std::lock_guard<std::mutex> g{lazy_};
    if (!files_) files_ = std::make_unique<os::file_watch>();
    return *files_;
  }

  /// The sd_notify listener, started when the first `ready = "notify"` app
  /// runs; nullptr (with `error`) if its directory cannot be made.
  probe::notify_listener* notify(std::string& error);

  ~runtime() {
    sampler.reset(); // it reads the watcher's pids: stop it first
    prober_.reset(); // checks in flight may still message actors: before the rest
    files_.reset();  // so may a change just debounced
    notify_.reset();
    // The keeper watch replays the pump's streams: it stops first. The
    // pump's thread tells the keeper about every stream it closes, up to its
    // last one: stop it while the keeper link is still there (members go in
    // reverse order, keeper before pump: a use-after-free at every daemon
    // exit, caught by ASan, a SIGSEGV now and then without it).
    if (keeper) keeper->stop_watching();
    pump.reset();
    keeper.reset();
    survival.reset();
    cgroups.reset(); // its drain thread ends; the cgroups stay for the next daemon
    if (!made_dir_.empty()) ::rmdir(made_dir_.c_str());
  }

private:
  std::mutex lazy_;
  std::unique_ptr<probe::prober> prober_;
  std::unique_ptr<os::file_watch> files_;
  std::unique_ptr<probe::notify_listener> notify_;
  std::string made_dir_;                 ///< a private dir we made (removed at the end)
  struct env_entry {
    std::vector<std::pair<std::string, std::string>> env; ///< the app's `env` it was built from
    std::weak_ptr<const std::vector<std::string>> merged; ///< alive while a plan holds it
  };
  std::mutex env_mtx_;
  std::unordered_map<std::string, env_entry> envs_;       ///< by app name
};

using runtime_ptr = std::shared_ptr<runtime>;

} // namespace arbor::detail
