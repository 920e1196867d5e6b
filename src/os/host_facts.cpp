#include "os/host_facts.hpp"

#include <cerrno>
#include <cstdlib>

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "os/fd_limit.hpp"
#include "os/proc_read.hpp"
#include "os/spawn.hpp"

namespace arbor::os {

namespace {

bool is_dir(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void probe_cgroups(host_facts& f) {
  f.cgroups = probe_cgroup_host();
  const auto name = "arbor-doctor-" + std::to_string(::getpid());
  if (!f.cgroups.v2_self.empty()) {
    f.v2_child_errno = try_child_dir(f.cgroups.v2_self, name, "cgroup.kill", &f.v2_kill);
    // Not made: whether the kernel has cgroup.kill at all (our own cgroup
    // has it unless it is the root).
    if (f.v2_child_errno != 0)
      f.v2_kill = ::access((f.cgroups.v2_self + "/cgroup.kill").c_str(), F_OK) == 0;
    f.v2_subtree_writable =
      ::access((f.cgroups.v2_self + "/cgroup.subtree_control").c_str(), W_OK) == 0;
  }
  for (const auto& c : f.cgroups.controllers)
    if (!c.v2 && !c.dir.empty()) f.v1_child_errno.emplace_back(c.name, try_child_dir(c.dir, name));
}

void probe_home(host_facts& f, const std::string& home) {
  f.home = home;
  f.euid = ::geteuid();
  f.home_errno = ::stat(home.c_str(), &f.home_stat) == 0 ? 0 : errno;
  // The nearest directory that exists: the one the home will be made in,
  // and the filesystem the logs will fill.
  std::string at = home;
  while (::access(at.c_str(), F_OK) != 0 && at.size() > 1) {
    auto slash = at.rfind('/');
    at = slash == 0 || slash == std::string::npos ? "/" : at.substr(0, slash);
  }
  if (f.home_errno != 0) f.home_creatable = ::access(at.c_str(), W_OK) == 0;
  else f.home_writable = ::access(home.c_str(), W_OK | X_OK) == 0;
  struct statvfs vfs {};
  if (::statvfs(at.c_str(), &vfs) == 0)
    f.home_free = static_cast<uint64_t>(vfs.f_bavail) * static_cast<uint64_t>(vfs.f_frsize);
}

} // namespace

int try_child_dir(const std::string& parent, const std::string& name, const char* inside,
                  bool* found) {
  auto dir = parent + "/" + name;
  if (::mkdir(dir.c_str(), 0755) != 0) return errno;
  if (inside && found) *found = ::access((dir + "/" + inside).c_str(), F_OK) == 0;
  return ::rmdir(dir.c_str()) == 0 ? 0 : errno;
}

host_facts probe_host(const std::string& home) {
  host_facts f;
  probe_cgroups(f);
  std::string text;
  if (read_small_file("/proc/sys/net/ipv4/tcp_migrate_req", text))
    f.tcp_migrate_req = std::atoi(text.c_str());
  f.nofile_soft = fd_soft_limit();
  f.nofile_hard = fd_hard_limit();
  f.zoneinfo = is_dir("/usr/share/zoneinfo");
  probe_home(f, home);
  f.systemd_pid1 = is_dir("/run/systemd/system");
  const char* path = std::getenv("PATH");
  std::string error;
  f.systemd_analyze = resolve_executable("systemd-analyze", path ? path : "", "", error);
  utsname u {};
  if (::uname(&u) == 0) f.kernel = u.release;
#if defined(__x86_64__) || defined(__aarch64__)
  f.clone_arch = true; // what spawn_clone.cpp is built for
#endif
  return f;
}

} // namespace arbor::os
