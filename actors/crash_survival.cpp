#include "crash_survival.hpp"

#include <csignal>
#include <thread>

#include "log.hpp"

#include "os/spawn.hpp"

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

crash_survival::crash_survival(std::string dir, std::string keeper_binary)
  : dir_(std::move(dir)), keeper_binary_(std::move(keeper_binary)),
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
  std::string err;
  if (keeper_.connected()) keeper_.bye(err);
}

} // namespace arbor::detail
