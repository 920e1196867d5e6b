#include "os/proc_stats.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
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
    if (field == 3) {
      f.state = tok.front();
      continue;
    }
    if (field != 4 && field != 14 && field != 15 && field != 16 && field != 17 && field != 20
        && field != 22 && field != 24)
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
      case 20: f.threads = static_cast<uint32_t>(u); break;
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

thread_local uint64_t stat_read_count = 0;
std::atomic<bool> full_scan_forced{false};

struct dir_closer {
  void operator()(DIR* d) const { closedir(d); }
};
using dir_ptr = std::unique_ptr<DIR, dir_closer>;

/// Reads the file at `path` (relative to `dir_fd`) into `out`, whole.
/// False if it cannot be opened or read (the process is gone, or has no
/// such file).
bool read_file(int dir_fd, const char* path, std::string& out) {
  out.clear();
  const int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char buf[4096];
  bool ok = true;
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    ok = n == 0;
    break;
  }
  close(fd);
  return ok;
}

/// Reads /proc/<pid>/stat relative to the /proc descriptor. False if the
/// process is gone (or unreadable): the caller skips it.
bool read_stat(int proc_fd, pid_t pid, detail::stat_fields& out) {
  char path[32];
  std::snprintf(path, sizeof path, "%d/stat", static_cast<int>(pid));
  const int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ++stat_read_count;
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
  return detail::parse_stat(std::string_view(buf, static_cast<size_t>(n)), out) && out.pid == pid;
}

/// Appends the pids listed in a children file ("12 345 ").
void parse_pids(const std::string& text, std::vector<pid_t>& out) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    int v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec == std::errc{} && v > 0)
      out.push_back(static_cast<pid_t>(v));
    p = next == p ? p + 1 : next;
  }
}

/// Appends the children of `pid` (which has `threads` threads): a child is
/// listed under the thread that forked it, so a multi-threaded process needs
/// every /proc/<pid>/task/<tid>/children.
void children_of(int proc_fd, pid_t pid, uint32_t threads, std::string& buf,
                 std::vector<pid_t>& out) {
  char path[sizeof(dirent::d_name) + 32];
  if (threads <= 1) {
    std::snprintf(path, sizeof path, "%d/task/%d/children", static_cast<int>(pid),
                  static_cast<int>(pid));
    if (read_file(proc_fd, path, buf))
      parse_pids(buf, out);
    return;
  }
  std::snprintf(path, sizeof path, "%d/task", static_cast<int>(pid));
  const int task_fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (task_fd < 0)
    return;
  const dir_ptr dir{fdopendir(task_fd)};
  if (!dir) {
    close(task_fd);
    return;
  }
  while (const dirent* ent = readdir(dir.get())) {
    if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
      continue;
    std::snprintf(path, sizeof path, "%s/children", ent->d_name);
    if (read_file(task_fd, path, buf))
      parse_pids(buf, out);
  }
}

/// Whether this kernel has /proc/<pid>/task/<tid>/children
/// (CONFIG_PROC_CHILDREN); checked once, on ourselves.
bool have_children_files() {
  static const bool have = [] {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%ld/children", syscall(SYS_gettid));
    return access(path, R_OK) == 0;
  }();
  return have && !full_scan_forced.load(std::memory_order_relaxed);
}

uint64_t page_size() {
  static const uint64_t size = [] {
    const long s = sysconf(_SC_PAGESIZE);
    return s > 0 ? static_cast<uint64_t>(s) : 4096;
  }();
  return size;
}

void add(proc_sample& s, const detail::stat_fields& p) {
  s.rss_bytes += p.rss_pages * page_size();
  s.cpu_ticks += p.utime + p.stime;
  s.reaped_ticks += p.cutime + p.cstime;
  ++s.processes;
}

/// Each root's tree by walking down from it: reads only its descendants.
void walk(int proc_fd, const std::vector<pid_t>& roots, std::vector<proc_sample>& result) {
  std::unordered_map<pid_t, size_t> done; // root -> its entry (a root listed twice)
  std::unordered_set<pid_t> seen;          // per root: a pid reused mid-walk cannot loop
  std::vector<std::pair<pid_t, pid_t>> stack; // (pid, the parent it must name)
  std::vector<pid_t> kids;
  std::string buf;
  for (size_t r = 0; r < roots.size(); ++r) {
    if (auto it = done.find(roots[r]); it != done.end()) {
      result[r] = result[it->second];
      continue;
    }
    done.emplace(roots[r], r);
    proc_sample& s = result[r];
    detail::stat_fields f;
    if (roots[r] <= 0 || !read_stat(proc_fd, roots[r], f))
      continue; // no such process: zeros
    s.root_start = f.start;
    s.root_stopped = f.state == 'T' || f.state == 't';
    seen.clear();
    stack.assign(1, {roots[r], 0});
    while (!stack.empty()) {
      const auto [pid, parent] = stack.back();
      stack.pop_back();
      if (parent != 0) { // the root's stat was read above
        if (!seen.insert(pid).second || !read_stat(proc_fd, pid, f) || f.ppid != parent)
          continue; // gone, or its pid now names another process
      } else {
        seen.insert(pid);
      }
      add(s, f);
      kids.clear();
      children_of(proc_fd, pid, f.threads, buf, kids);
      for (pid_t k : kids)
        stack.emplace_back(k, pid);
    }
  }
}

/// Every root's tree from ONE scan of all of /proc, linked by ppid: for a
/// kernel without the children files.
void scan(int proc_fd, const std::vector<pid_t>& roots, std::vector<proc_sample>& result) {
  const int fd = dup(proc_fd);
  if (fd < 0)
    return;
  dir_ptr dir{fdopendir(fd)};
  if (!dir) {
    close(fd);
    return;
  }
  std::vector<detail::stat_fields> procs;
  procs.reserve(1024);
  while (const dirent* ent = readdir(dir.get())) {
    if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
      continue; // ".", "self", "sys", ...
    detail::stat_fields f;
    if (read_stat(proc_fd, static_cast<pid_t>(std::atoi(ent->d_name)), f))
      procs.push_back(f);
  }
  dir.reset();

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
  std::vector<uint32_t> seen(n, 0);
  std::vector<uint32_t> stack;
  for (size_t r = 0; r < roots.size(); ++r) {
    const size_t top = index_of(roots[r]);
    if (top == n)
      continue; // no such process: zeros
    const uint32_t stamp = static_cast<uint32_t>(r + 1);
    proc_sample& s = result[r];
    s.root_start = procs[top].start;
    s.root_stopped = procs[top].state == 'T' || procs[top].state == 't';
    stack.assign(1, static_cast<uint32_t>(top));
    seen[top] = stamp;
    while (!stack.empty()) {
      const uint32_t i = stack.back();
      stack.pop_back();
      add(s, procs[i]);
      for (uint32_t k = first[i]; k < first[i + 1]; ++k)
        if (seen[kids[k]] != stamp) {
          seen[kids[k]] = stamp;
          stack.push_back(kids[k]);
        }
    }
  }
}

} // namespace

namespace detail {

uint64_t stat_reads() {
  return stat_read_count;
}

void force_full_scan(bool on) {
  full_scan_forced.store(on, std::memory_order_relaxed);
}

} // namespace detail

std::vector<proc_sample> sample_trees(const std::vector<pid_t>& roots) {
  std::vector<proc_sample> result(roots.size());
  for (size_t i = 0; i < roots.size(); ++i)
    result[i].root = roots[i];
  if (roots.empty())
    return result;
  const int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd < 0)
    return result;
  try {
    if (have_children_files())
      walk(proc_fd, roots, result);
    else
      scan(proc_fd, roots, result);
  } catch (...) {
    close(proc_fd);
    throw; // bad_alloc
  }
  close(proc_fd);
  return result;
}

} // namespace arbor::os
