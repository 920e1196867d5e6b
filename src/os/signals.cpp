#include "os/signals.hpp"

#include <cerrno>
#include <initializer_list>

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
  return set;
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
