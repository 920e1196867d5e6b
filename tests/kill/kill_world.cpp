#include "kill_world.hpp"

#include <sstream>

#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/cli_util.hpp"

namespace arbor::test::kill {

namespace {

/// The whole of a /proc file read with plain read(2): a process may exit
/// while it is read (then "" or a part).
std::string read_proc(int pid, const char* what) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + what;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

/// The parent of a live process; false for a zombie or a process gone.
/// ppid and start time (field 22) of a live process; false for a zombie or none.
bool live_stat(int pid, int& ppid, unsigned long long& start) {
  auto stat = read_proc(pid, "stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size() || stat[close + 2] == 'Z')
    return false;
  std::istringstream fields{stat.substr(close + 2)};
  std::string f;
  for (int i = 3; i <= 22 && fields >> f; ++i) {
    if (i == 4) ppid = std::atoi(f.c_str());
    if (i == 22) start = std::strtoull(f.c_str(), nullptr, 10);
  }
  return true;
}

/// Fills `p` from a NUL-separated environment; false unless it holds `home_entry`.
bool read_marker(const std::string& env, const std::string& home_entry, marked_process& p) {
  bool ours = false;
  for (size_t at = 0; at < env.size();) {
    size_t end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    std::string kv = env.substr(at, end - at);
    if (kv == home_entry) ours = true;
    else if (kv.rfind("ARBOR_APP=", 0) == 0) p.app = kv.substr(10);
    else if (kv.rfind("ARBOR_INSTANCE=", 0) == 0) p.index = std::atoi(kv.c_str() + 15);
    at = end + 1;
  }
  return ours;
}

} // namespace

std::string describe(const marked_process& p) {
  std::string who = p.app.empty() ? "no ARBOR_APP" : p.app + "#" + std::to_string(p.index);
  return "pid " + std::to_string(p.pid) + " (ppid " + std::to_string(p.ppid) + ") [" + who + "] "
         + p.cmdline;
}

home_processes scan_home(const std::string& home) {
  home_processes out;
  const std::string home_entry = "ARBOR_HOME=" + home;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 1 || pid == ::getpid()) continue;
    marked_process p;
    p.pid = pid;
    if (!read_marker(read_proc(pid, "environ"), home_entry, p) || !live_stat(pid, p.ppid, p.start))
      continue;
    p.cmdline = read_proc(pid, "cmdline");
    for (auto& c : p.cmdline)
      if (c == '\0') c = ' ';
    while (!p.cmdline.empty() && p.cmdline.back() == ' ') p.cmdline.pop_back();
    (p.app.empty() ? out.others : out.apps).push_back(std::move(p));
  }
  ::closedir(d);
  return out;
}

bool still_alive(const marked_process& p) {
  int ppid = 0;
  unsigned long long start = 0;
  return live_stat(p.pid, ppid, start) && start == p.start;
}

int kill_daemon(const std::string& home) {
  int pid = daemon_pid(home);
  int pfd = pidfd_of_home(pid, home);
  if (pfd < 0) return 0;
  // argv[0]: "arbor-daemon" as `arbor up` starts it, a path as the keeper does.
  auto argv0 = read_proc(pid, "cmdline");
  argv0 = argv0.substr(0, argv0.find('\0'));
  auto slash = argv0.rfind('/');
  if ((slash == std::string::npos ? argv0 : argv0.substr(slash + 1)) != "arbor-daemon") {
    ::close(pfd);
    return 0;
  }
  ::syscall(SYS_pidfd_send_signal, pfd, SIGKILL, nullptr, 0);
  // A pidfd turns readable when its process exits, child of ours or not.
  pollfd p{pfd, POLLIN, 0};
  ::poll(&p, 1, 10000);
  ::close(pfd);
  return pid;
}

void kill_everything(const std::string& home) {
  for (int pid : processes_of_home(home)) signal_if_of_home(pid, home, SIGKILL);
}

} // namespace arbor::test::kill
