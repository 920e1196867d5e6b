// The sampler of os/proc_stats.hpp: one table of samples per root, filled by
// a thread for the roots that need a periodic watch and on demand by
// sample_now() for everything else.

#include "os/proc_stats.hpp"

#include <algorithm>
#include <ctime>

#include <unistd.h>

namespace arbor::os {

namespace {

using clock = std::chrono::steady_clock;

/// Seconds since boot, the clock of stat's starttime (field 22); -1 if
/// unknown.
double boot_seconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
    return -1;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

sampler::sampler(roots_fn periodic, std::chrono::milliseconds interval, sample_fn on_sample,
                 roots_fn known)
    : periodic_(std::move(periodic)),
      known_(std::move(known)),
      on_sample_(std::move(on_sample)),
      interval_(std::max(interval, std::chrono::milliseconds(1))),
      ticks_per_second_([] {
        const long t = sysconf(_SC_CLK_TCK);
        return t > 0 ? static_cast<double>(t) : 100.0;
      }()),
      thread_([this] { run(); }) {}

sampler::~sampler() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::optional<usage> sampler::latest(pid_t root) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = table_.find(root);
  if (it == table_.end())
    return std::nullopt;
  return it->second.last;
}

std::optional<usage> sampler::sample_now(pid_t root, std::chrono::milliseconds max_age) {
  try {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto it = table_.find(root);
      if (it != table_.end() && clock::now() - it->second.last.at <= max_age)
        return it->second.last;
    }
    const std::vector<proc_sample> samples = sample_trees({root});
    const auto now = clock::now();
    const double boot = boot_seconds();
    usage u;
    bool grown = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      u = record_locked(samples.front(), now, boot);
      grown = table_.size() > prune_at_;
    }
    if (grown)
      prune();
    return u;
  } catch (...) {
    return std::nullopt; // bad_alloc, or a throwing `known` provider
  }
}

void sampler::poke() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    poked_ = true;
  }
  cv_.notify_all();
}

uint64_t sampler::passes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return passes_;
}

void sampler::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  auto woken = [&] { return stop_ || poked_; };
  auto next = clock::now() + interval_;
  bool idle = false; // the last pass found no roots: sleep until poked
  while (!stop_) {
    if (!poked_ && idle) {
      cv_.wait(lock, woken);
      continue;
    }
    if (!poked_ && clock::now() < next) {
      cv_.wait_until(lock, next, woken);
      continue;
    }
    poked_ = false;
    next = clock::now() + interval_;
    lock.unlock();
    bool sampled = true;
    try {
      sampled = pass();
    } catch (...) {
      // A throwing provider or listener, or bad_alloc: skip this pass, try
      // again in one interval.
    }
    lock.lock();
    idle = !sampled;
  }
}

bool sampler::pass() {
  std::vector<pid_t> roots = periodic_ ? periodic_() : std::vector<pid_t>{};
  if (roots.empty()) {
    bool extra = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      last_periodic_.clear();
      extra = !table_.empty();
    }
    if (extra)
      prune();
    return false;
  }
  const std::vector<proc_sample> samples = sample_trees(roots);
  const auto now = clock::now();
  const double boot = boot_seconds();
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());

  std::vector<std::pair<pid_t, usage>> report;
  report.reserve(samples.size());
  bool extra = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (const proc_sample& s : samples)
      report.emplace_back(s.root, record_locked(s, now, boot));
    ++passes_;
    last_periodic_.swap(roots);
    // Samples taken on demand: forget those of gone roots. Asking `known`
    // costs a copy of every watched pid: only once the table has grown.
    extra = known_ ? table_.size() > prune_at_ : table_.size() > last_periodic_.size();
  }
  if (extra)
    prune();
  if (on_sample_)
    on_sample_(report);
  return true;
}

usage sampler::record_locked(const proc_sample& s, clock::time_point now, double boot) {
  auto old = table_.find(s.root);
  if (old != table_.end() && old->second.last.at > now)
    return old->second.last; // a newer sample of another thread came first
  const uint64_t ticks = s.cpu_ticks + s.reaped_ticks;
  const std::chrono::duration<double> min_window = interval_ / 2;
  usage u;
  u.rss_bytes = s.rss_bytes;
  u.processes = s.processes;
  u.stopped = s.root_stopped;
  u.at = now;
  history h;
  if (s.processes == 0) {
    // Gone: nothing to measure a window from.
  } else if (old == table_.end() || old->second.last.processes == 0
             || old->second.start != s.root_start) {
    // First sample of this process: its average since it started, if it has
    // run long enough to tell; the window opens now.
    const double age = boot - static_cast<double>(s.root_start) / ticks_per_second_;
    if (boot > 0 && age >= min_window.count())
      u.cpu_percent = static_cast<double>(ticks) / ticks_per_second_ / age * 100.0;
    h.ticks = ticks;
    h.start = s.root_start;
    h.since = now;
  } else {
    h = old->second;
    const std::chrono::duration<double> window = now - h.since;
    if (window >= min_window) {
      const double delta = ticks >= h.ticks ? static_cast<double>(ticks - h.ticks) : 0.0;
      u.cpu_percent = delta / ticks_per_second_ / window.count() * 100.0;
      h.ticks = ticks;
      h.since = now;
    } else {
      u.cpu_percent = h.last.cpu_percent; // too short to tell: keep the window open
    }
  }
  h.last = u;
  table_.insert_or_assign(s.root, h);
  return u;
}

void sampler::prune() {
  std::vector<pid_t> keep = known_ ? known_() : std::vector<pid_t>{};
  std::lock_guard<std::mutex> guard{mtx_};
  keep.insert(keep.end(), last_periodic_.begin(), last_periodic_.end());
  std::sort(keep.begin(), keep.end());
  for (auto it = table_.begin(); it != table_.end();) {
    if (std::binary_search(keep.begin(), keep.end(), it->first))
      ++it;
    else
      it = table_.erase(it);
  }
  prune_at_ = std::max<size_t>(64, 2 * table_.size());
}

} // namespace arbor::os
