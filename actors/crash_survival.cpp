#include "crash_survival.hpp"

#include <algorithm>
#include <csignal>

#include "log.hpp"

#include "os/cgroup_tree.hpp"
#include "os/terminate.hpp"
#include "readopt_plan.hpp"

namespace arbor::detail {

namespace {

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

/// A journal that cannot be written costs policy only (which instances were
/// stopped by hand, counters): which processes exist is read from /proc.
void say_journal_failure(const std::string& error) {
  if (error.empty())
    log_info("supervisor=root event=journal reason=\"the journal is written again\"");
  else
    log_error("supervisor=root event=journal reason=\"{} (until it can be written again, a "
              "daemon crash keeps the runs but may forget stops by hand and counters)\"", error);
}

journal::store_options store_options() {
  journal::store_options o;
  o.on_failure = say_journal_failure;
  return o;
}

/// The cgroups of runs that are no instance's run now (an app or instance
/// the config no longer has, an older run, what a dead leader left): what
/// is in them gets TERM, SIGKILL 10 s later, then they go. Their processes
/// are found by the kernel's word, scrubbed environments too.
void stop_stray_cgroups(os::cgroup_tree& cgroups, const readopt_plan& plan,
                        std::map<std::string, std::string>& kept) {
  for (auto& r : cgroups.list_runs()) {
    os::run_cgroup run;
    run.dir = r.dir;
    // The cgroup that holds an instance's run to adopt (its name may be an
    // earlier run's: an ended run hands its empty cgroup to the next). Kept
    // with the run: should its leader die before it is adopted, the
    // instance drains it.
    auto id = r.app + "#" + std::to_string(r.index);
    auto it = plan.runs.find(id);
    auto procs = cgroups.procs(run);
    if (it != plan.runs.end()
        && std::find(procs.begin(), procs.end(), it->second.pid) != procs.end()) {
      kept[id] = r.dir;
      continue;
    }
    if (auto n = cgroups.signal(run, SIGTERM))
      log_warn("supervisor=root event=stray reason=\"{} process(es) in {} are no instance's run "
               "of this config: stopping them\"", n, r.dir);
    cgroups.retire(std::move(run), std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
}

} // namespace

crash_survival::crash_survival(std::string dir)
  : dir_(std::move(dir)),
    // Written as soon as anything changes (no gathering delay): a stop by
    // hand must hold across a crash right after it, and the record of a run
    // tells the next daemon whether that run's leader died (readopt_plan).
    // Which processes exist does not depend on it: their ARBOR_ID says.
    // A write appends only the changed records to
    // state.json.log, so a mass crash of 1000 instances is not 1000 full
    // rewrites; see journal/journal_log.hpp.
    store_(dir_ + "/state.json", store_options()) {}

uint64_t crash_survival::recover(tree_spec& spec, logs::log_pump* pump,
                                 const std::string& log_dir, os::cgroup_tree* cgroups) {
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
  if (cgroups) stop_stray_cgroups(*cgroups, plan, run_cgroups_);
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
  if (pump)
    for (auto& [name, a] : apps)
      pump->configure({name, log_dir, a->log.max_size, a->log.max_files, a->log.date_format});
  return plan.max_generation;
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
  if (auto it = run_cgroups_.find(id); it != run_cgroups_.end()) {
    out.cgroup = std::move(it->second);
    run_cgroups_.erase(it);
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
}

} // namespace arbor::detail
