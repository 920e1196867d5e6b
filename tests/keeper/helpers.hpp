#pragma once

// Temp homes, files, bounded waits and processes for the keeper tests.

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../logs/helpers.hpp"

namespace arbor::keeper::test {

using logs::test::lines_of;
using logs::test::pipe_pair;
using logs::test::put;
using logs::test::slurp;
using logs::test::wait_until;

/// A fresh directory under /tmp (short: it holds a socket), removed with
/// everything in it.
struct temp_dir : logs::test::temp_dir {
  temp_dir() : logs::test::temp_dir("/tmp/arbor-keeper") {}
};

inline bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

/// Bytes waiting in a pipe (FIONREAD works on either end).
inline int unread(int fd) {
  int n = -1;
  ::ioctl(fd, FIONREAD, &n);
  return n;
}

/// "0001234": the numbered lines the writers produce, 8 bytes with '\n'.
inline std::string number_line(uint64_t i) {
  char text[16];
  char* p = text + sizeof text;
  *--p = '\n';
  for (int d = 0; d < 7; ++d, i /= 10)
    *--p = static_cast<char>('0' + i % 10);
  return std::string(p, static_cast<size_t>(text + sizeof text - p));
}

/// The files of a rotated log, oldest first: <log>.N ... <log>.1, <log>.
inline std::vector<std::string> rotation_set(const std::string& log) {
  std::vector<std::string> files;
  for (int k = 1; exists(log + "." + std::to_string(k)); ++k)
    files.insert(files.begin(), log + "." + std::to_string(k));
  files.push_back(log);
  return files;
}

/// Every line of a rotated log, oldest first.
inline std::vector<std::string> rotated_lines(const std::string& log) {
  std::vector<std::string> all;
  for (auto& f : rotation_set(log))
    for (auto& l : lines_of(f))
      all.push_back(std::move(l));
  return all;
}

/// A process watched through a pidfd (safe against pid reuse); SIGKILLed at
/// destruction if still there. For a child, also reaped.
struct process {
  pid_t pid = -1;
  int pidfd = -1;
  bool child = false;

  explicit process(pid_t p, bool is_child) : pid(p), child(is_child) {
    if (p > 0)
      pidfd = static_cast<int>(::syscall(SYS_pidfd_open, p, 0));
  }
  ~process() {
    if (pidfd >= 0 && !gone(std::chrono::milliseconds(0)))
      ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    if (child)
      ::waitpid(pid, nullptr, 0);
    if (pidfd >= 0)
      ::close(pidfd);
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  /// True once it has exited (a zombie counts).
  bool gone(std::chrono::milliseconds timeout) const {
    if (pidfd < 0)
      return false;
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  }
  /// Waits for a child to exit and reaps it: its wait status, or -1 on timeout.
  int wait_status(std::chrono::milliseconds timeout) {
    if (!child || !gone(timeout))
      return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid)
      return -1;
    child = false; // reaped
    return status;
  }
};

/// Forks a writer: it writes number_line(first), number_line(first+1)...
/// to `out`, one write() per line (atomic in a pipe), with SIGPIPE at its
/// default (a pipe without readers kills it). It stops after `count` lines,
/// or, with gate >= 0, once `gate` reads end-of-file (checked every 256
/// lines), and then writes "end\n". Every other descriptor is closed in it.
inline pid_t spawn_writer(int out, uint64_t first, uint64_t count, int gate = -1) {
  pid_t pid = ::fork();
  if (pid != 0)
    return pid;
  ::signal(SIGPIPE, SIG_DFL);
  ::dup2(out, 200);
  if (gate >= 0)
    ::dup2(gate, 201);
  ::dup2(200, 3);
  if (gate >= 0)
    ::dup2(201, 4);
  ::close_range(gate >= 0 ? 5 : 4, ~0U, 0);
  if (gate >= 0)
    ::fcntl(4, F_SETFL, O_NONBLOCK);
  for (uint64_t i = first; i < first + count; ++i) {
    std::string line = number_line(i);
    if (::write(3, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      ::_exit(3);
    if (gate >= 0 && (i - first) % 256 == 255) {
      char c;
      if (::read(4, &c, 1) == 0)
        break;
    }
  }
  if (gate >= 0 && ::write(3, "end\n", 4) != 4)
    ::_exit(3);
  ::_exit(0);
}

} // namespace arbor::keeper::test
