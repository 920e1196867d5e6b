#include "os/home_leftovers.hpp"

#include <algorithm>
#include <functional>

#include <unistd.h>

#include "os/cgroup_files.hpp"
#include "os/identity.hpp"
#include "os/proc_read.hpp"

namespace arbor::os {

namespace {

/// The processes in `dir` and every cgroup below it, but the daemon's leaf.
void cgroup_procs(const std::string& dir, std::vector<pid_t>& out, int depth) {
  if (depth > 64) return; // deeper than any tree arbor makes (16 nested groups)
  for (auto pid : cg::procs(dir)) out.push_back(pid);
  for (const auto& sub : cg::subdirs(dir))
    if (sub != ".daemon") cgroup_procs(dir + "/" + sub, out, depth + 1);
}

} // namespace

std::vector<proc_ref> home_leftovers(const std::string& home) {
  std::vector<pid_t> pids;
  for (const auto& p : scan_home(home)) pids.push_back(p.pid);
  std::string root;
  if (read_small_file((home + "/cgroup").c_str(), root)) {
    root = root.substr(0, root.find('\n'));
    // Only a cgroup directory: the file is ours, but never walk elsewhere.
    if (root.rfind("/sys/fs/cgroup/", 0) == 0 && root.find("/../") == std::string::npos)
      cgroup_procs(root, pids, 0);
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  std::vector<proc_ref> out;
  for (auto pid : pids) {
    proc_brief b;
    if (pid == ::getpid() || !read_brief(pid, b) || b.state == 'Z') continue;
    out.push_back({pid, b.start});
  }
  return out;
}

} // namespace arbor::os
