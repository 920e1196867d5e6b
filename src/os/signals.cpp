#include "os/signals.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace arbor::os {

sigset_t block_control_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD})
    sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A write to a closed pipe or socket must be an EPIPE, not our death.
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, nullptr);
  sigdelset(&set, SIGCHLD); // blocked, but the exit watcher's to read
  return set;
}

bool blocked_in_every_thread(int sig) {
  if (sig < 1 || sig > 64)
    return false;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr)
    return false;
  bool all = true;
  int threads = 0;
  while (const dirent* ent = ::readdir(dir)) {
    if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
      continue;
    char path[sizeof ent->d_name + 32];
    std::snprintf(path, sizeof path, "/proc/self/task/%s/status", ent->d_name);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue; // the thread just ended
    char buf[4096];
    ssize_t n;
    do
      n = ::read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    ::close(fd);
    if (n <= 0)
      continue;
    buf[n] = '\0';
    const char* line = std::strstr(buf, "\nSigBlk:");
    unsigned long long mask = 0;
    char* end = nullptr;
    if (line != nullptr) mask = std::strtoull(line + 8, &end, 16); // skips the tab
    if (line == nullptr || end == line + 8) {
      all = false;
      break;
    }
    ++threads;
    if (((mask >> (sig - 1)) & 1) == 0) {
      all = false;
      break;
    }
  }
  ::closedir(dir);
  return all && threads > 0;
}

int open_signalfd(const sigset_t& set) {
  return ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int read_signal(int fd) {
  signalfd_siginfo info;
  for (;;) {
    ssize_t n = ::read(fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info))
      return static_cast<int>(info.ssi_signo);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    if (n >= 0)
      errno = EIO; // a short read cannot happen with a signalfd
    return -1;
  }
}

} // namespace arbor::os
