#include "crash_survival.hpp"

#include <csignal>
#include <thread>

#include "log.hpp"

#include "os/spawn.hpp"

namespace arbor::detail {

namespace {

void collect(group_spec& g, std::map<std::string, app_spec*>& out) {
  for (auto& c : g.children) {
    if (c.type == node_spec::kind::app) out[c.app.name] = &c.app;
    else collect(c.group, out);
  }
}

/// Stops instances the config no longer has: TERM to the group, KILL 10 s later.
void stop_strays(std::vector<journal::instance_record> strays) {
  if (strays.empty()) return;
  for (auto& r : strays) {
    log_warn("supervisor=root event=stray reason=\"{}#{} (pid {}) is not in the config any "
                 "more: stopping it\"", r.app, r.index, r.pid);
    ::kill(-r.pid, SIGTERM);
  }
  std::thread([strays] {
    for (int i = 0; i < 100; ++i) {
      bool any = false;
      for (auto& r : strays) any = any || journal::same_process(r.pid, r.start_time);
      if (!any) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (auto& r : strays)
      if (journal::same_process(r.pid, r.start_time)) ::kill(-r.pid, SIGKILL);
  }).detach();
}

} // namespace

crash_survival::crash_survival(std::string dir)
  : dir_(std::move(dir)),
    // Written as soon as anything changes (no gathering delay): a daemon
    // killed right after a respawn must find the new pid, or the next daemon
    // starts a duplicate. A write appends only the changed records to
    // state.json.log, so a mass crash of 1000 instances is not 1000 full
    // rewrites; see journal/journal_log.hpp.
    store_(dir_ + "/state.json") {}

void crash_survival::recover(tree_spec& spec, logs::log_pump* pump, const std::string& log_dir) {
  std::string err;
  auto last = journal::read_journal(dir_ + "/state.json", err);
  if (!err.empty()) log_error("supervisor=root event=journal reason=\"{}\"", err);
  std::map<std::string, app_spec*> apps;
  collect(spec.root, apps);
  if (last) {
    for (auto& [app, n] : last->scale)
      if (auto it = apps.find(app); it != apps.end()) it->second->instances = n;
    std::vector<journal::instance_record> strays;
    for (auto& r : last->instances) {
      auto it = apps.find(r.app);
      bool known = it != apps.end() && r.index < it->second->instances;
      if (known) previous_[r.app + "#" + std::to_string(r.index)] = r;
      else if (r.pid > 0 && journal::same_process(r.pid, r.start_time)) strays.push_back(r);
    }
    stop_strays(std::move(strays));
    // The instances still configured keep their records until their actors
    // write their own (adopted or started again): a daemon killed before
    // that must not leave its successor a journal without them (it would
    // start duplicates of the ones still running). Strays are dropped.
    std::vector<journal::instance_record> kept;
    kept.reserve(previous_.size());
    for (auto& [id, r] : previous_) kept.push_back(r);
    last->instances = std::move(kept);
    store_.load(*last);
  }
  store_.set_meta(::getpid(), spec.file);
  if (!pump) return;
  for (auto& [name, a] : apps)
    pump->configure({name, log_dir, a->log.max_size, a->log.max_files, a->log.date_format});
}

std::optional<journal::instance_record> crash_survival::take(const std::string& id) {
  std::lock_guard<std::mutex> g{m_};
  auto it = previous_.find(id);
  if (it == previous_.end()) return std::nullopt;
  auto r = std::move(it->second);
  previous_.erase(it);
  return r;
}

void crash_survival::put(journal::instance_record r) {
  std::lock_guard<std::mutex> g{m_};
  if (!closed_) store_.put(std::move(r));
}

void crash_survival::erase(const std::string& app, uint32_t index) {
  std::lock_guard<std::mutex> g{m_};
  if (!closed_) store_.erase(app, index);
}

void crash_survival::erase_app(const std::string& app) {
  std::lock_guard<std::mutex> g{m_};
  if (!closed_) store_.erase_app(app);
}

void crash_survival::set_scale(const std::string& app, uint32_t n) {
  std::lock_guard<std::mutex> g{m_};
  if (!closed_) store_.set_scale(app, n);
}

void crash_survival::close_clean() {
  {
    std::lock_guard<std::mutex> g{m_};
    if (closed_) return;
    closed_ = true;
  }
  store_.remove_files(); // state.json, then state.json.log
}

} // namespace arbor::detail
