#include "keeper/reaper.hpp"

#include "os/proc_read.hpp"

#include <cerrno>
#include <csignal>

#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace arbor::keeper::detail {

child_reaper::~child_reaper() {
  if (fd_ >= 0)
    ::close(fd_);
}

int child_reaper::open() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return -1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  return fd_;
}

void child_reaper::reap() {
  signalfd_siginfo si{};
  while (fd_ >= 0 && ::read(fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
  }
  for (;;) {
    // Look first (WNOWAIT): the zombie's start time tells this run from a
    // later process given the same pid.
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0)
      return;
    pid_t pid = info.si_pid;
    os::proc_brief brief;
    uint64_t start = os::read_brief(pid, brief) ? brief.start : 0;
    siginfo_t done{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &done, WEXITED | WNOHANG) != 0)
      return;
    child_exit e;
    e.signaled = done.si_code == CLD_KILLED || done.si_code == CLD_DUMPED;
    e.core_dumped = done.si_code == CLD_DUMPED;
    e.code = done.si_status;
    if (statuses_.count(pid) == 0)
      order_.push_back(pid);
    statuses_[pid] = {start, e};
    while (order_.size() > keep) { // a pid kept twice in order_ goes at its first place
      statuses_.erase(order_.front());
      order_.pop_front();
    }
  }
}

std::optional<child_exit> child_reaper::take(pid_t pid, uint64_t start) {
  reap();
  auto it = statuses_.find(pid);
  if (it == statuses_.end() || (start != 0 && it->second.first != start))
    return std::nullopt;
  child_exit e = it->second.second;
  statuses_.erase(it);
  return e;
}

} // namespace arbor::keeper::detail
