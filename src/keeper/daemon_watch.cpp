#include "keeper/daemon_watch.hpp"

#include "keeper/streams.hpp" // note()
#include "os/daemon_spawn.hpp"
#include "os/home_lock.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace arbor::keeper::detail {

namespace {

/// `arbor up`'s way (os::spawn_daemon); 0 with `error`.
pid_t spawn_daemon(const std::string& home, const daemon_command& cmd, std::string& error) {
  int err = 0;
  pid_t pid = os::spawn_daemon(cmd.argv[0], cmd.argv, &cmd.env, home + "/daemon.log", err);
  if (pid == 0) error = cmd.argv[0] + ": " + std::strerror(err);
  return pid;
}

} // namespace

daemon_watch::daemon_watch(std::string home, size_t limit, std::chrono::milliseconds period)
    : home_(std::move(home)), limit_(limit), period_(period) {}

daemon_watch::~daemon_watch() {
  for (auto& kv : by_tag_)
    ::close(kv.second.pidfd);
}

watched_daemon* daemon_watch::find(pid_t pid) {
  for (auto& kv : by_tag_)
    if (kv.second.pid == pid)
      return &kv.second;
  return nullptr;
}

bool daemon_watch::watch(int epfd, uint64_t tag_base, pid_t pid, daemon_command command) {
  if (auto* w = find(pid)) {
    w->command = std::move(command);
    w->replace_on_exit = true;
    return w->replacement;
  }
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    note("event=watch_failed daemon_pid=" + std::to_string(pid) + " error=\""
         + std::strerror(errno) + "\"");
    return false;
  }
  uint64_t tag = tag_base | next_serial_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  watched_daemon w;
  w.pid = pid;
  w.pidfd = fd;
  w.command = std::move(command);
  w.replace_on_exit = true;
  by_tag_[tag] = std::move(w);
  return false;
}

void daemon_watch::set_command(pid_t pid, const daemon_command& command) {
  for (auto& kv : by_tag_)
    if (kv.second.pid == pid)
      kv.second.command = command;
}

bool daemon_watch::exited(uint64_t tag, watched_daemon& out) {
  auto it = by_tag_.find(tag);
  if (it == by_tag_.end())
    return false;
  out = std::move(it->second);
  by_tag_.erase(it);
  ::close(out.pidfd); // also leaves the epoll set
  out.pidfd = -1;
  return true;
}

pid_t daemon_watch::launch(int epfd, uint64_t tag_base, const daemon_command& command,
                           std::string& error) {
  pid_t pid = spawn_daemon(home_, command, error);
  if (pid <= 0)
    return 0;
  watch(epfd, tag_base, pid, command);
  if (auto* w = find(pid))
    w->replace_on_exit = false;
  return pid;
}

pid_t daemon_watch::start(int epfd, uint64_t tag_base, const daemon_command& command,
                          std::string& error) {
  if (os::home_locked(home_)) {
    error = "another daemon holds arbor.lock";
    return 0;
  }
  pid_t pid = launch(epfd, tag_base, command, error);
  note(pid > 0 ? "event=daemon_started pid=" + std::to_string(pid) + " for=up"
               : "event=daemon_start_failed for=up error=\"" + error + "\"");
  return pid;
}

pid_t daemon_watch::replace(int epfd, uint64_t tag_base, const daemon_command& command,
                            pid_t dead) {
  const std::string who = "daemon_pid=" + std::to_string(dead);
  if (os::home_locked(home_)) {
    note("event=daemon_not_replaced " + who + " reason=\"another daemon holds arbor.lock\"");
    return 0;
  }
  auto now = clock::now();
  while (!deaths_.empty() && deaths_.front() < now - period_)
    deaths_.pop_front();
  deaths_.push_back(now);
  if (deaths_.size() >= limit_) {
    note("event=daemon_gave_up " + who + " reason=\"" + std::to_string(deaths_.size())
         + " daemon deaths within " + std::to_string(period_.count())
         + " ms: not starting another (arbor up starts one)\"");
    return 0;
  }
  std::string error;
  pid_t pid = launch(epfd, tag_base, command, error);
  if (pid <= 0) {
    note("event=daemon_start_failed " + who + " error=\"" + error + "\"");
    return 0;
  }
  note("event=daemon_started " + who + " new_pid=" + std::to_string(pid));
  if (auto* w = find(pid)) {
    w->replacement = true;
    w->replace_on_exit = true; // one that dies before its hello is started again (limited)
  }
  return pid;
}

} // namespace arbor::keeper::detail
