#include "os/exit_watcher.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "os/orphans.hpp"
#include "os/signals.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// <sys/pidfd.h> has no extern "C" in glibc 2.36: use the raw syscall.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace arbor::os {

namespace {

/// Local on purpose: the config area has its own table for parsing names.
const char* signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGSTKFLT: return "SIGSTKFLT";
    case SIGCHLD: return "SIGCHLD";
    case SIGCONT: return "SIGCONT";
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    case SIGURG: return "SIGURG";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPROF: return "SIGPROF";
    case SIGWINCH: return "SIGWINCH";
    case SIGIO: return "SIGIO";
    case SIGPWR: return "SIGPWR";
    case SIGSYS: return "SIGSYS";
    default: return nullptr;
  }
}

std::string signal_text(int sig) {
  if (const char* name = signal_name(sig))
    return name;
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  return std::to_string(sig);
}

} // namespace

std::string describe(const exit_record& r) {
  if (r.unknown)
    return "exited (status unknown: adopted after a daemon restart)";
  if (!r.signaled && r.code < 0)
    return "unknown (status lost)";
  if (!r.signaled)
    return "exit(" + std::to_string(r.code) + ")";
  std::string out = "signal(" + signal_text(r.code);
  if (r.core_dumped)
    out += ", core dumped";
  out += ")";
  return out;
}

namespace {

/// A pidfd for `pid`, refusing processes that are not our children (they
/// could never be reaped through it). Returns the fd or -errno.
int open_child_pidfd(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); // close-on-exec
  if (fd < 0)
    return -errno;
  siginfo_t probe{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &probe,
               WEXITED | WNOHANG | WNOWAIT)
        != 0
      && errno == ECHILD) {
    ::close(fd);
    return -ECHILD;
  }
  return fd;
}

} // namespace

struct exit_watcher::impl {
  struct entry {
    pid_t pid;
    callback on_exit;
    bool adopted = false;  // not our child: its status cannot be had
  };

  int epfd = -1;
  int wakefd = -1;
  mutable std::mutex mtx;
  std::unordered_map<int, entry> watched; // pidfd -> child
  std::thread thread;
  // Orphan reaping, set up once by reap_adopted_orphans (another thread).
  std::mutex setup_mtx;
  std::atomic<int> sigfd{-1};              // SIGCHLD, in event-driven mode
  std::atomic<int> timerfd{-1};            // when to sweep: one-shot or every second
  std::atomic<orphan_reaping> mode{orphan_reaping::off};
  bool timer_armed = false;                // watcher thread only (event-driven mode)

  ~impl() {
    for (auto& kv : watched)
      ::close(kv.first);
    for (int fd : {wakefd, epfd, sigfd.load(), timerfd.load()})
      if (fd >= 0)
        ::close(fd);
  }

  void run() {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(epfd, events, 64, -1);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return; // EBADF/EINVAL: nothing sensible left to do
      }
      bool sweep_now = false;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wakefd)
          return; // the only use of the eventfd is "stop"
        if (fd == sigfd.load())
          on_sigchld();
        else if (fd == timerfd.load())
          sweep_now |= on_timer();
        else
          reap(fd);
      }
      if (sweep_now)
        sweep(); // after this batch's own children are reaped
    }
  }

  /// Some child exited: sweep soon, once per burst. Drained first, so a
  /// SIGCHLD that comes later makes the signalfd readable again.
  void on_sigchld() {
    while (read_signal(sigfd.load()) > 0) {
    }
    if (timer_armed)
      return;
    const auto ns = std::chrono::nanoseconds(sweep_delay).count();
    itimerspec once{};
    once.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
    once.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    timer_armed = ::timerfd_settime(timerfd.load(), 0, &once, nullptr) == 0;
  }

  /// The sweep timer fired (false if it had not: a spurious wake-up).
  bool on_timer() {
    uint64_t expirations = 0;
    if (::read(timerfd.load(), &expirations, sizeof expirations) != sizeof expirations)
      return false;
    timer_armed = false;
    return true;
  }

  void sweep() {
    std::vector<pid_t> mine;
    {
      std::lock_guard<std::mutex> guard{mtx};
      mine.reserve(watched.size());
      for (auto& kv : watched)
        mine.push_back(kv.second.pid);
    }
    reap_orphans(std::move(mine));
  }

  /// Registers a child; the caller holds `mtx`. Closes fd on failure.
  std::error_code add_locked(int fd, entry e) {
    watched.emplace(fd, std::move(e));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      int err = errno;
      watched.erase(fd);
      ::close(fd);
      return {err, std::generic_category()};
    }
    return {};
  }

  void reap(int fd) {
    entry e;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto it = watched.find(fd);
      if (it == watched.end())
        return;
      e = std::move(it->second);
      watched.erase(it);
    }
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    // Kill the rest of the group while the exited leader is still a zombie:
    // the zombie pins its pid, so -pid cannot name a recycled group.
    if (e.pid > 1)
      ::kill(-e.pid, SIGKILL); // ESRCH (no group) is fine
    siginfo_t info{};
    int rc;
    do {
      rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED);
    } while (rc != 0 && errno == EINTR);
    exit_record r;
    r.at = std::chrono::steady_clock::now();
    r.pid = e.pid;
    if (rc == 0) {
      switch (info.si_code) {
        case CLD_EXITED:
          r.code = info.si_status;
          break;
        case CLD_DUMPED:
          r.core_dumped = true;
          [[fallthrough]];
        case CLD_KILLED:
        default:
          r.signaled = true;
          r.code = info.si_status;
          break;
      }
    } else {
      // Adopted from a previous daemon (its parent is init), or reaped by
      // someone else (a stray waitpid(-1)): the status is lost.
      r.code = -1;
      r.unknown = true;
    }
    try {
      if (e.on_exit)
        e.on_exit(r);
    } catch (...) {
      // A callback must not take the watcher thread (and the process) down.
    }
    ::close(fd);
  }
};

exit_watcher::exit_watcher() : impl_(std::make_unique<impl>()) {
  impl_->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl_->epfd < 0)
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  impl_->wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wakefd < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl_->wakefd;
  if (::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->wakefd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

exit_watcher::~exit_watcher() {
  uint64_t one = 1;
  while (::write(impl_->wakefd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  if (impl_->thread.joinable())
    impl_->thread.join();
  // impl's destructor closes the pidfds still watched, the eventfd and epoll.
}

std::error_code exit_watcher::watch(pid_t pid, callback on_exit) {
  if (pid <= 0)
    return std::make_error_code(std::errc::invalid_argument);
  int fd = open_child_pidfd(pid);
  if (fd < 0)
    return {-fd, std::generic_category()};
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->add_locked(fd, impl::entry{pid, std::move(on_exit)});
}

std::error_code exit_watcher::adopt(pid_t pid, callback on_exit) {
  if (pid <= 1)
    return std::make_error_code(std::errc::invalid_argument);
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return {errno, std::generic_category()};
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl::entry e{pid, std::move(on_exit)};
  e.adopted = true;
  return impl_->add_locked(fd, std::move(e));
}

void exit_watcher::reap_adopted_orphans() {
  impl& m = *impl_;
  std::lock_guard<std::mutex> guard{m.setup_mtx};
  if (m.mode.load() != orphan_reaping::off)
    return;
  const int tfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0)
    return; // EMFILE at startup: orphans stay zombies until we exit
  // SIGCHLD stays pending for a signalfd only if no thread can take it.
  int sfd = -1;
  if (blocked_in_every_thread(SIGCHLD)) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sfd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  }
  if (sfd < 0) {
    itimerspec every{};
    every.it_interval.tv_sec = 1;
    every.it_value.tv_sec = 1;
    ::timerfd_settime(tfd, 0, &every, nullptr);
  }
  m.timerfd = tfd;
  m.sigfd = sfd;
  for (int fd : {tfd, sfd}) {
    if (fd < 0)
      continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(m.epfd, EPOLL_CTL_ADD, fd, &ev);
  }
  // A SIGCHLD pending from before is still there: the signalfd reports it.
  m.mode = sfd >= 0 ? orphan_reaping::on_sigchld : orphan_reaping::every_second;
}

exit_watcher::orphan_reaping exit_watcher::orphan_mode() const {
  return impl_->mode.load();
}

std::vector<pid_t> exit_watcher::pids() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  std::vector<pid_t> out;
  out.reserve(impl_->watched.size());
  for (auto& kv : impl_->watched) out.push_back(kv.second.pid);
  return out;
}

size_t exit_watcher::watched() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->watched.size();
}

} // namespace arbor::os
