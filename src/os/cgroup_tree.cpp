#include "os/cgroup_tree.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/cgroup_files.hpp"
#include "os/proc_read.hpp"
#include "os/spawn.hpp"

namespace arbor::os {

bool parse_containment(const char* value, containment_wish& out) {
  std::string v = value ? value : "";
  if (v.empty() || v == "auto") out = containment_wish::automatic;
  else if (v == "cgroup") out = containment_wish::cgroup;
  else if (v == "process-group") out = containment_wish::process_group;
  else return false;
  return true;
}

namespace {

std::string hash_name(const std::string& home) {
  uint64_t h = 1469598103934665603ULL; // FNV-1a
  for (unsigned char c : home) h = (h ^ c) * 1099511628211ULL;
  char buf[32];
  std::snprintf(buf, sizeof buf, "arbor-%08llx", static_cast<unsigned long long>(h & 0xffffffffULL));
  return buf;
}

std::string leaf_name(uint32_t index, uint64_t gen) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%u@%016llx", index, static_cast<unsigned long long>(gen));
  return buf;
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

std::unique_ptr<cgroup_tree> cgroup_tree::open(const std::string& home, containment_wish wish,
                                               std::string& note) {
  note.clear();
  if (wish == containment_wish::process_group || home.empty()) return nullptr;
  std::unique_ptr<cgroup_tree> t{new cgroup_tree};
  t->host_ = probe_cgroup_host();
  auto fail = [&](std::string why) -> std::unique_ptr<cgroup_tree> {
    note = std::move(why);
    if (wish == containment_wish::cgroup)
      throw std::runtime_error("ARBOR_CONTAINMENT=cgroup: " + note);
    return nullptr;
  };
  if (t->host_.v2_mount.empty()) return fail("no cgroup2 hierarchy is mounted");
  t->home_hash_ = hash_name(home);
  std::string recorded;
  const std::string record = home + "/cgroup";
  if (read_small_file(record.c_str(), recorded)) {
    recorded = recorded.substr(0, recorded.find('\n'));
    if (!is_dir(recorded) || recorded.rfind(t->host_.v2_mount + "/", 0) != 0) recorded.clear();
  }
  t->root_ = !recorded.empty() ? recorded : t->host_.v2_self + "/" + t->home_hash_;
  t->origin_ = t->host_.v2_self;
  if (t->origin_.rfind(t->root_, 0) == 0) t->origin_ = t->root_.substr(0, t->root_.rfind('/'));
  if (auto err = cg::make_dir(t->root_); !err.empty())
    return fail("cannot create the cgroup " + t->root_ + ": " + err);
  if (!cg::exists(t->root_ + "/cgroup.kill"))
    return fail("this kernel has no cgroup.kill (Linux < 5.14)");
  const std::string leaf = t->root_ + "/.daemon";
  if (auto err = cg::make_dir(leaf); !err.empty()) return fail("cannot create " + leaf + ": " + err);
  if (auto err = cg::write(leaf + "/cgroup.procs", std::to_string(::getpid())); !err.empty())
    return fail("cannot move the daemon into " + leaf + ": " + err);
  if (recorded.empty()) {
    if (auto err = cg::write_file(record, t->root_ + "\n"); !err.empty())
      return fail("cannot write " + record + ": " + err);
  }
  t->clone_places_ = clone_into_cgroup_available();
  t->sweep_stale();
  t->start_drain();
  return t;
}

std::string cgroup_tree::nested(const std::string& app) {
  std::string out = app;
  std::replace(out.begin(), out.end(), '.', '/');
  return out;
}

std::vector<std::string> cgroup_tree::app_levels(const std::string& base, const std::string& app) {
  std::vector<std::string> out;
  std::string dir = base;
  for (size_t at = 0;;) {
    auto dot = app.find('.', at);
    dir += "/" + app.substr(at, dot == std::string::npos ? dot : dot - at);
    out.push_back(dir);
    if (dot == std::string::npos) return out;
    at = dot + 1;
  }
}

std::string cgroup_tree::make_app_dirs(const std::string& base, const std::string& app) {
  for (auto& dir : app_levels(base, app))
    if (auto err = cg::make_dir(dir); !err.empty()) return dir + ": " + err;
  return {};
}

std::string cgroup_tree::ensure_v1(const std::string& controller, const std::string& app,
                                   const std::string& leaf, std::string& dir) {
  auto* c = host_.find(controller);
  const auto base = c->dir + "/" + home_hash_;
  dir = base + "/" + nested(app) + "/" + leaf;
  std::string err = cg::make_dir(base);
  if (!err.empty()) err = base + ": " + err;
  if (err.empty()) err = make_app_dirs(base, app);
  if (err.empty() && !(err = cg::make_dir(dir)).empty()) err = dir + ": " + err;
  return err.empty() ? err : "cannot create the " + controller + " cgroup " + err;
}

std::string cgroup_tree::enable_v2(const std::vector<std::string>& controllers,
                                   const std::string& app) {
  std::lock_guard<std::mutex> g{m_};
  for (auto& name : controllers) {
    auto key = app + "/" + name;
    if (std::find(enabled_.begin(), enabled_.end(), key) != enabled_.end()) continue;
    // Down from our own cgroup: each level offers it to the next.
    for (auto* dir : {&origin_, &root_}) {
      auto err = cg::write(*dir + "/cgroup.subtree_control", "+" + name);
      if (!err.empty() && dir == &root_)
        return "cannot enable the " + name + " controller in " + *dir + ": " + err;
    }
    // And down the app's levels (web, web/api) to its runs.
    for (auto& dir : app_levels(root_, app))
      if (auto err = cg::write(dir + "/cgroup.subtree_control", "+" + name); !err.empty())
        return "cannot enable the " + name + " controller in " + dir + ": " + err;
    enabled_.push_back(key);
  }
  return {};
}

std::string cgroup_tree::make_run(const std::string& app, uint32_t index, uint64_t gen,
                                  const cgroup_limits& limits, run_cgroup& out) {
  out = {};
  const auto leaf = leaf_name(index, gen);
  std::vector<std::string> on_v2;
  for (auto& name : controllers_needed(limits)) {
    auto* c = host_.find(name);
    if (!c)
      return "this host has no " + name + " cgroup controller for the app's limits "
             "(`arbor doctor` says what it has)";
    if (c->v2) on_v2.push_back(name);
  }
  if (auto err = make_app_dirs(root_, app); !err.empty()) return "cannot create the cgroup " + err;
  if (!on_v2.empty())
    if (auto err = enable_v2(on_v2, app); !err.empty()) return err;
  out.dir = app_dir(app) + "/" + leaf;
  if (auto err = cg::make_dir(out.dir); !err.empty())
    return "cannot create the cgroup " + out.dir + ": " + err;
  std::vector<std::pair<std::string, std::string>> v1; // controller, dir
  for (auto& name : controllers_needed(limits)) {
    if (host_.find(name)->v2) continue;
    std::string dir;
    if (auto err = ensure_v1(name, app, leaf, dir); !err.empty()) return err;
    v1.emplace_back(name, dir);
    out.v1.push_back(dir);
    out.join.push_back(dir + "/cgroup.procs");
  }
  auto on = [&](const std::string& c) { return host_.find(c)->v2; };
  for (auto& w : limit_writes(limits, on)) {
    std::string dir = out.dir;
    for (auto& [name, d] : v1)
      if (name == w.controller) dir = d;
    if (w.optional && !cg::exists(dir + "/" + w.file)) continue;
    if (auto err = cg::write(dir + "/" + w.file, w.value); !err.empty())
      return "cannot set " + w.file + " to " + w.value + " in " + dir + ": " + err;
  }
  if (!clone_places_) out.join.push_back(out.dir + "/cgroup.procs");
  for (auto& j : out.join) out.join_ptrs.push_back(j.c_str());
  out.join_ptrs.push_back(nullptr);
  return {};
}

bool cgroup_tree::find_run_of(pid_t pid, const cgroup_limits& limits, run_cgroup& out) const {
  out = {};
  std::string text;
  if (!read_small_file(("/proc/" + std::to_string(pid) + "/cgroup").c_str(), text)) return false;
  for (auto& m : parse_proc_cgroup(text)) {
    auto dir = host_.v2_mount + (m.path == "/" ? "" : m.path);
    // " (deleted)": the cgroup was removed, its last process is exiting.
    if (!m.v2 || dir.rfind(root_ + "/", 0) != 0 || dir.rfind(root_ + "/.", 0) == 0
        || dir.find(" (deleted)") != std::string::npos)
      continue;
    out.dir = dir;
  }
  if (out.dir.empty()) return false;
  const auto rel = out.dir.substr(root_.size()); // "/web/api/0@..."
  for (auto& name : controllers_needed(limits)) {
    auto* c = host_.find(name);
    auto dir = c && !c->v2 ? c->dir + "/" + home_hash_ + rel : std::string{};
    if (!dir.empty() && is_dir(dir)) out.v1.push_back(dir);
  }
  return true;
}

void cgroup_tree::rejoin(run_cgroup& run) const {
  run.join.clear();
  run.join_ptrs.clear();
  if (!clone_places_) run.join.push_back(run.dir + "/cgroup.procs");
  for (auto& j : run.join) run.join_ptrs.push_back(j.c_str());
  run.join_ptrs.push_back(nullptr);
}

namespace {

/// The run cgroups under `dir` (app `app`, "" at the root), at most 20 deep.
void collect_runs(const std::string& dir, const std::string& app, int depth,
                  std::vector<run_listing>& out) {
  for (auto& name : cg::subdirs(dir)) {
    unsigned index = 0;
    unsigned long long gen = 0;
    char tail = 0;
    if (!app.empty() && std::sscanf(name.c_str(), "%u@%llx%c", &index, &gen, &tail) == 2)
      out.push_back({app, index, gen, dir + "/" + name});
    else if (name.front() != '.' && depth < 20)
      collect_runs(dir + "/" + name, app.empty() ? name : app + "." + name, depth + 1, out);
  }
}

} // namespace

std::vector<run_listing> cgroup_tree::list_runs() const {
  std::vector<run_listing> out;
  collect_runs(root_, "", 0, out);
  return out;
}

std::vector<pid_t> cgroup_tree::procs(const run_cgroup& run) const {
  return cg::procs(!run.dir.empty() ? run.dir : run.v1.empty() ? std::string{} : run.v1.front());
}

size_t cgroup_tree::signal(const run_cgroup& run, int sig) const {
  size_t n = 0;
  for (pid_t p : procs(run))
    if (::kill(p, sig) == 0) ++n;
  return n;
}

void cgroup_tree::kill(const run_cgroup& run) const {
  if (!run.dir.empty()) cg::write(run.dir + "/cgroup.kill", "1");
}

bool cgroup_tree::populated(const run_cgroup& run) const {
  if (run.dir.empty()) return false;
  return cg::key_value(run.dir + "/cgroup.events", "populated").value_or(0) != 0;
}

int64_t cgroup_tree::memory_bytes(const run_cgroup& run) const {
  std::string text;
  if (!run.dir.empty() && read_small_file((run.dir + "/memory.current").c_str(), text))
    return std::stoll(text);
  for (auto& d : run.v1)
    if (read_small_file((d + "/memory.usage_in_bytes").c_str(), text)) return std::stoll(text);
  return -1;
}

uint64_t cgroup_tree::oom_kills(const run_cgroup& run) const {
  if (!run.dir.empty())
    if (auto n = cg::key_value(run.dir + "/memory.events", "oom_kill")) return *n;
  for (auto& d : run.v1)
    if (auto n = cg::key_value(d + "/memory.oom_control", "oom_kill")) return *n;
  return 0;
}

} // namespace arbor::os
