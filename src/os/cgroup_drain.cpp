// The runs that are over but whose cgroups still hold processes (what a
// crashed leader left, a stop's stragglers): one thread waits for each to
// empty, SIGKILLs what is left at its deadline, and removes the cgroups.

#include "os/cgroup_tree.hpp"

#include <algorithm>
#include <condition_variable>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "os/cgroup_files.hpp"

namespace arbor::os {

namespace {
using clock = std::chrono::steady_clock;

void remove_dirs(const run_cgroup& run) {
  if (!run.dir.empty()) ::rmdir(run.dir.c_str());
  for (auto& d : run.v1) ::rmdir(d.c_str());
}
} // namespace

struct cgroup_tree::drain {
  struct pending {
    run_cgroup run;
    clock::time_point kill_at;
    std::function<void()> when_empty;
    bool killed = false;
  };
  const cgroup_tree* tree = nullptr;
  std::mutex m;
  std::condition_variable cv;
  std::vector<pending> runs;
  bool quit = false;
  std::thread worker;

  /// One pass: the empty ones go, the overdue ones get SIGKILL.
  void pass(std::unique_lock<std::mutex>& lock) {
    std::vector<std::function<void()>> done;
    for (auto it = runs.begin(); it != runs.end();) {
      if (!tree->populated(it->run)) {
        remove_dirs(it->run);
        if (it->when_empty) done.push_back(std::move(it->when_empty));
        it = runs.erase(it);
        continue;
      }
      if (!it->killed && clock::now() >= it->kill_at) {
        tree->kill(it->run);
        it->killed = true;
      }
      ++it;
    }
    lock.unlock();
    for (auto& f : done) f();
    lock.lock();
  }

  void run() {
    std::unique_lock<std::mutex> lock{m};
    while (!quit) {
      if (runs.empty()) {
        cv.wait(lock);
        continue;
      }
      pass(lock);
      // Processes dying of a signal take milliseconds: look again soon.
      cv.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
};

cgroup_tree::cgroup_tree() = default;

cgroup_tree::~cgroup_tree() {
  if (!drain_) return;
  {
    std::lock_guard<std::mutex> g{drain_->m};
    drain_->quit = true;
  }
  drain_->cv.notify_all();
  if (drain_->worker.joinable()) drain_->worker.join();
}

void cgroup_tree::start_drain() {
  drain_ = std::make_unique<drain>();
  drain_->tree = this;
  drain_->worker = std::thread([d = drain_.get()] { d->run(); });
}

void cgroup_tree::retire(run_cgroup run, clock::time_point kill_at,
                         std::function<void()> when_empty) {
  if (run.empty()) {
    if (when_empty) when_empty();
    return;
  }
  if (!populated(run)) { // the common case: nothing left, nothing to wait for
    remove_dirs(run);
    if (when_empty) when_empty();
    return;
  }
  {
    std::lock_guard<std::mutex> g{drain_->m};
    drain_->runs.push_back({std::move(run), kill_at, std::move(when_empty)});
  }
  drain_->cv.notify_all();
}

namespace {

/// rmdir bottom-up; a cgroup that still holds a process refuses (EBUSY).
void remove_tree(const std::string& dir) {
  for (auto& sub : cg::subdirs(dir)) remove_tree(dir + "/" + sub);
  ::rmdir(dir.c_str());
}

bool older_than_a_minute(const std::string& dir) {
  struct stat st{};
  return ::stat(dir.c_str(), &st) == 0 && ::time(nullptr) - st.st_mtime > 60;
}

} // namespace

void cgroup_tree::sweep_stale() const {
  std::vector<std::string> parents{root_.substr(0, root_.rfind('/'))};
  for (auto& c : host_.controllers)
    if (!c.v2) parents.push_back(c.dir);
  for (auto& parent : parents)
    for (auto& name : cg::subdirs(parent))
      if (name.rfind("arbor-", 0) == 0 && name != home_hash_
          && older_than_a_minute(parent + "/" + name))
        remove_tree(parent + "/" + name);
}

void cgroup_tree::close_clean() {
  // Every run has been stopped; what is still in a run cgroup (a stray the
  // drain had not finished with) ends now, whatever its environment says.
  std::vector<run_cgroup> left;
  for (auto& r : list_runs()) {
    run_cgroup run;
    run.dir = r.dir;
    if (populated(run)) kill(run);
    left.push_back(std::move(run));
  }
  const auto until = clock::now() + std::chrono::seconds(2);
  while (std::any_of(left.begin(), left.end(), [this](auto& r) { return populated(r); })
         && clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (auto& r : left) ::rmdir(r.dir.c_str());
  for (auto& name : cg::subdirs(root_))
    if (name != ".daemon") remove_tree(root_ + "/" + name);
  for (auto& c : host_.controllers)
    if (!c.v2) remove_tree(c.dir + "/" + home_hash_);
  // Back where the daemon came from; its leaf and the root go when empty
  // (the keeper may still be in the leaf for a moment: then they stay).
  if (cg::write(origin_ + "/cgroup.procs", std::to_string(::getpid())).empty()) {
    ::rmdir((root_ + "/.daemon").c_str());
    ::rmdir(root_.c_str());
  }
}

} // namespace arbor::os
