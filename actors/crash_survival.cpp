#include "crash_survival.hpp"

#include <csignal>
#include <thread>

#include "log.hpp"

#include "os/spawn.hpp"
#include "os/terminate.hpp"
#include "readopt_plan.hpp"

namespace arbor::detail {

namespace {

/// "web.api#0.out.<pid>.<n>" → app, index, stream.
bool parse_key(const std::string& key, std::string& app, uint32_t& index, logs::stream& kind) {
  auto hash = key.rfind('#');
  if (hash == std::string::npos) return false;
  app = key.substr(0, hash);
  auto dot = key.find('.', hash);
  if (dot == std::string::npos) return false;
  try {
    index = static_cast<uint32_t>(std::stoul(key.substr(hash + 1, dot - hash - 1)));
  } catch (...) {
    return false;
  }
  auto what = key.substr(dot + 1, 4);
  if (what == "out.") kind = logs::stream::out;
  else if (what == "err.") kind = logs::stream::err;
  else return false;
  return true;
}

void collect(group_spec& g, std::map<std::string, app_spec*>& out) {
  for (auto& c : g.children) {
    if (c.type == node_spec::kind::app) out[c.app.name] = &c.app;
    else collect(c.group, out);
  }
}

/// Stops what is no instance's run any more: TERM, KILL 10 s later.
void stop_strays(const std::vector<os::marked_process>& strays) {
  std::vector<os::proc_ref> procs;
  for (auto& p : strays) {
    log_warn("supervisor=root event=stray reason=\"pid {} of {}#{} (generation {:x}) is no "
             "instance's run of this config: stopping it\"", p.pid, p.id.app, p.id.index,
             p.id.generation);
    procs.push_back({p.pid, p.start});
  }
  os::terminate(std::move(procs), SIGTERM, std::chrono::seconds(10), false);
}

} // namespace

crash_survival::crash_survival(std::string dir, std::string keeper_binary)
  : dir_(std::move(dir)), keeper_binary_(std::move(keeper_binary)),
    // Written as soon as anything changes (no gathering delay): a daemon
    // killed right after a respawn must find the new pid, or the next daemon
    // starts a duplicate. A write appends only the changed records to
    // state.json.log, so a mass crash of 1000 instances is not 1000 full
    // rewrites; see journal/journal_log.hpp.
    store_(dir_ + "/state.json") {}

uint64_t crash_survival::recover(tree_spec& spec, logs::log_pump* pump,
                                 const std::string& log_dir) {
  std::string err;
  auto last = journal::read_journal(dir_ + "/state.json", err);
  if (!err.empty()) log_error("supervisor=root event=journal reason=\"{}\"", err);
  std::map<std::string, app_spec*> apps;
  collect(spec.root, apps);
  std::map<std::string, journal::instance_record> records;
  if (last) {
    for (auto& [app, n] : last->scale)
      if (auto it = apps.find(app); it != apps.end()) it->second->instances = n;
    for (auto& r : last->instances) records[r.app + "#" + std::to_string(r.index)] = r;
  }
  auto configured = [&apps](const std::string& app, uint32_t index) {
    auto it = apps.find(app);
    return it != apps.end() && index < it->second->instances;
  };
  auto plan = plan_readoption(os::scan_home(dir_), records, configured);
  stop_strays(plan.strays);
  runs_ = std::move(plan.runs);
  if (last) {
    // The instances still configured keep their records until their actors
    // write their own (adopted or started again): a daemon killed before
    // that must not leave its successor a journal without them.
    std::vector<journal::instance_record> kept;
    for (auto& [id, r] : records)
      if (configured(r.app, r.index)) {
        previous_[id] = r;
        kept.push_back(r);
      }
    last->instances = std::move(kept);
    store_.load(*last);
  }
  store_.set_meta(::getpid(), spec.file);
  if (pump) take_pipes(apps, pump, log_dir);
  return plan.max_generation;
}

void crash_survival::take_pipes(const std::map<std::string, app_spec*>& apps,
                                logs::log_pump* pump, const std::string& log_dir) {
  std::string err;
  for (auto& [name, a] : apps)
    pump->configure({name, log_dir, a->log.max_size, a->log.max_files, a->log.date_format});
  auto ledger = pump->ledger_fds();
  keeper_.set_ledger(ledger.first, ledger.second);
  auto handed = keeper_.start(dir_, keeper_binary_, err);
  if (!handed) {
    log_error("supervisor=root event=keeper reason=\"{} (apps' output is not protected "
                  "against a daemon crash)\"", err);
  } else {
    for (auto& h : *handed) {
      std::string app;
      uint32_t index = 0;
      logs::stream kind{};
      bool ok = parse_key(h.id, app, index, kind);
      if (!ok && h.fd >= 0) ::close(h.fd);
      if (!ok || !pump->adopt_stream(app, index, kind, h.fd, h.id)) keeper_.release(h.id, err);
    }
    if (!handed->empty())
      log_info("supervisor=root event=keeper reason=\"{} output pipe(s) taken back\"",
                   handed->size());
  }
  pump->set_hook([this](const logs::stream_change& c) {
    std::string e;
    if (c.fd >= 0) keeper_.hold(c.key, c.fd, c.path, c.prefix, c.date_format, e);
    else keeper_.release(c.key, e);
  });
}

crash_survival::left_behind crash_survival::take(const std::string& id) {
  std::lock_guard<std::mutex> g{m_};
  left_behind out;
  if (auto it = previous_.find(id); it != previous_.end()) {
    out.record = std::move(it->second);
    previous_.erase(it);
  }
  if (auto it = runs_.find(id); it != runs_.end()) {
    out.run = std::move(it->second);
    runs_.erase(it);
  }
  return out;
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
  std::vector<os::proc_ref> left;
  for (auto& p : os::scan_home(dir_)) {
    log_warn("supervisor=root event=stray reason=\"pid {} of {}#{} outlived its run's stop "
             "(it left the process group): stopping it\"", p.pid, p.id.app, p.id.index);
    left.push_back({p.pid, p.start});
  }
  os::terminate(std::move(left), SIGTERM, std::chrono::seconds(5), true);
  store_.remove_files(); // state.json, then state.json.log
  std::string err;
  if (keeper_.connected()) keeper_.bye(err);
}

} // namespace arbor::detail
