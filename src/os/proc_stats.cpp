#include "os/proc_stats.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace arbor::os {

namespace detail {

bool parse_stat(std::string_view line, stat_fields& out) {
  auto to_int = [](std::string_view tok, int64_t& v) {
    auto [end, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    return ec == std::errc{} && end == tok.data() + tok.size();
  };
  // Field 1 is the pid; field 2 is "(comm)", where comm may hold anything,
  // ')' and spaces included: the fields proper start after the last ')'.
  const size_t open = line.find(" (");
  const size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return false;
  int64_t v = 0;
  if (!to_int(line.substr(0, open), v) || v <= 0)
    return false;
  stat_fields f;
  f.pid = static_cast<pid_t>(v);

  size_t pos = close + 1;
  for (int field = 3; field <= 24; ++field) {
    while (pos < line.size() && line[pos] == ' ')
      ++pos;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\n')
      ++end;
    if (end == pos)
      return false; // cut off before rss
    const std::string_view tok = line.substr(pos, end - pos);
    pos = end;
    if (field == 3)
      continue; // state, a letter
    if (field != 4 && field != 14 && field != 15 && field != 16 && field != 17 && field != 22
        && field != 24)
      continue;
    if (!to_int(tok, v))
      return false;
    const uint64_t u = v > 0 ? static_cast<uint64_t>(v) : 0;
    switch (field) {
      case 4: f.ppid = static_cast<pid_t>(v); break;
      case 14: f.utime = u; break;
      case 15: f.stime = u; break;
      case 16: f.cutime = u; break;
      case 17: f.cstime = u; break;
      case 22: f.start = u; break;
      case 24: f.rss_pages = u; break;
      default: break;
    }
  }
  out = f;
  return true;
}

} // namespace detail

namespace {

/// Reads /proc/<name>/stat relative to the /proc descriptor. False if the
/// process is gone (or unreadable): the caller skips it.
bool read_stat(int proc_fd, const char* name, detail::stat_fields& out) {
  char path[32];
  const size_t len = std::strlen(name);
  if (len + sizeof "/stat" > sizeof path)
    return false;
  std::memcpy(path, name, len);
  std::memcpy(path + len, "/stat", sizeof "/stat");
  const int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  // One read: the kernel formats the whole line at once. 1 KiB reaches well
  // past field 24 even with a 64-byte comm and 20-digit numbers.
  char buf[1024];
  ssize_t n;
  do
    n = read(fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) // ESRCH: exited between open and read
    return false;
  return detail::parse_stat(std::string_view(buf, static_cast<size_t>(n)), out);
}

uint64_t page_size() {
  static const uint64_t size = [] {
    const long s = sysconf(_SC_PAGESIZE);
    return s > 0 ? static_cast<uint64_t>(s) : 4096;
  }();
  return size;
}

} // namespace

std::vector<proc_sample> sample_trees(const std::vector<pid_t>& roots) {
  std::vector<proc_sample> result(roots.size());
  for (size_t i = 0; i < roots.size(); ++i)
    result[i].root = roots[i];
  if (roots.empty())
    return result;

  // One scan: every process's stat, read once.
  DIR* dir = opendir("/proc");
  if (dir == nullptr)
    return result;
  const int proc_fd = dirfd(dir);
  std::vector<detail::stat_fields> procs;
  procs.reserve(1024);
  while (const dirent* ent = readdir(dir)) {
    if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
      continue; // ".", "self", "sys", ...
    detail::stat_fields f;
    if (read_stat(proc_fd, ent->d_name, f))
      procs.push_back(f);
  }
  closedir(dir);

  // /proc lists pids in ascending order; sort anyway if it ever does not.
  auto by_pid = [](const detail::stat_fields& a, const detail::stat_fields& b) {
    return a.pid < b.pid;
  };
  if (!std::is_sorted(procs.begin(), procs.end(), by_pid))
    std::sort(procs.begin(), procs.end(), by_pid);
  const size_t n = procs.size();
  auto index_of = [&](pid_t pid) -> size_t {
    auto it = std::lower_bound(procs.begin(), procs.end(), pid,
                               [](const detail::stat_fields& f, pid_t p) { return f.pid < p; });
    return it != procs.end() && it->pid == pid ? static_cast<size_t>(it - procs.begin()) : n;
  };

  // Children lists from the ppid links, flattened: kids[first[i] .. first[i+1]).
  std::vector<size_t> parent(n);
  std::vector<uint32_t> first(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    parent[i] = procs[i].ppid > 0 ? index_of(procs[i].ppid) : n;
    if (parent[i] < n)
      ++first[parent[i] + 1];
  }
  for (size_t i = 0; i < n; ++i)
    first[i + 1] += first[i];
  std::vector<uint32_t> kids(first[n]);
  {
    std::vector<uint32_t> fill(first.begin(), first.end() - 1);
    for (size_t i = 0; i < n; ++i)
      if (parent[i] < n)
        kids[fill[parent[i]]++] = static_cast<uint32_t>(i);
  }

  // Sum per root. `seen` guards against a cycle that a pid reused mid-scan
  // could fake; it is stamped per root, so overlapping trees are fine.
  const uint64_t page = page_size();
  std::vector<uint32_t> seen(n, 0);
  std::vector<uint32_t> stack;
  for (size_t r = 0; r < roots.size(); ++r) {
    const size_t top = index_of(roots[r]);
    if (top == n)
      continue; // no such process: zeros
    const uint32_t stamp = static_cast<uint32_t>(r + 1);
    proc_sample& s = result[r];
    s.root_start = procs[top].start;
    stack.assign(1, static_cast<uint32_t>(top));
    seen[top] = stamp;
    while (!stack.empty()) {
      const uint32_t i = stack.back();
      stack.pop_back();
      const detail::stat_fields& p = procs[i];
      s.rss_bytes += p.rss_pages * page;
      s.cpu_ticks += p.utime + p.stime;
      s.reaped_ticks += p.cutime + p.cstime;
      ++s.processes;
      for (uint32_t k = first[i]; k < first[i + 1]; ++k)
        if (seen[kids[k]] != stamp) {
          seen[kids[k]] = stamp;
          stack.push_back(kids[k]);
        }
    }
  }
  return result;
}

// --- sampler -----------------------------------------------------------------

sampler::sampler(roots_fn roots, std::chrono::milliseconds interval, sample_fn on_sample)
    : roots_(std::move(roots)),
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

void sampler::poke() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    poked_ = true;
  }
  cv_.notify_all();
}

void sampler::run() {
  using clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock{mtx_};
  auto next = clock::now() + interval_;
  while (!stop_) {
    if (!poked_ && clock::now() < next) {
      cv_.wait_until(lock, next, [&] { return stop_ || poked_; });
      continue;
    }
    poked_ = false;
    next = clock::now() + interval_;
    lock.unlock();
    try {
      pass();
    } catch (...) {
      // A throwing provider or listener, or bad_alloc: skip this pass.
    }
    lock.lock();
  }
}

void sampler::pass() {
  using clock = std::chrono::steady_clock;
  const std::vector<pid_t> roots = roots_ ? roots_() : std::vector<pid_t>{};
  if (roots.empty()) {
    std::lock_guard<std::mutex> guard{mtx_};
    table_.clear();
    return;
  }
  const std::vector<proc_sample> samples = sample_trees(roots);
  const auto now = clock::now();

  std::vector<std::pair<pid_t, usage>> report;
  report.reserve(samples.size());
  {
    std::lock_guard<std::mutex> guard{mtx_};
    std::unordered_map<pid_t, history> next;
    next.reserve(samples.size());
    for (const proc_sample& s : samples) {
      if (auto dup = next.find(s.root); dup != next.end()) {
        report.emplace_back(s.root, dup->second.last);
        continue;
      }
      const uint64_t ticks = s.cpu_ticks + s.reaped_ticks;
      usage u;
      u.rss_bytes = s.rss_bytes;
      u.processes = s.processes;
      u.at = now;
      history h;
      auto old = table_.find(s.root);
      if (s.processes == 0) {
        // Gone: nothing to measure a window from.
      } else if (old == table_.end() || old->second.last.processes == 0
                 || old->second.start != s.root_start) {
        h.ticks = ticks; // first sample of this process: open the window
        h.start = s.root_start;
        h.since = now;
      } else {
        h = old->second;
        const std::chrono::duration<double> window = now - h.since;
        if (window >= interval_ / 2) {
          const double delta = ticks >= h.ticks ? static_cast<double>(ticks - h.ticks) : 0.0;
          u.cpu_percent = delta / ticks_per_second_ / window.count() * 100.0;
          h.ticks = ticks;
          h.since = now;
        } else {
          u.cpu_percent = h.last.cpu_percent; // too short to tell: keep the window open
        }
      }
      h.last = u;
      next.emplace(s.root, h);
      report.emplace_back(s.root, u);
    }
    table_.swap(next);
  }
  if (on_sample_)
    on_sample_(report);
}

} // namespace arbor::os
