#pragma once

// Small waits the OS-layer tests share: bounded, event-driven (poll on a
// pidfd or a pipe), never fixed sleeps; and a scratch directory.

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace arbor::os::test {

/// Waits (bounded) for our child `pid` to exit and reaps it through a
/// pidfd. False if it did not exit in time (it is then left alone).
inline bool reap(pid_t pid, int timeout_ms = 10000) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  bool ok = ::poll(&p, 1, timeout_ms) == 1;
  siginfo_t info{};
  if (ok) ok = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED) == 0;
  ::close(fd);
  return ok;
}

/// Reads one line (without the '\n'), waiting at most `timeout_ms` per read.
inline std::string read_line(int fd, int timeout_ms = 10000) {
  std::string out;
  char c;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) break;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    out += c;
  }
  return out;
}

/// A directory made under /tmp for one test, removed with all it holds.
struct scratch_dir {
  std::string path;
  scratch_dir() {
    char tmpl[] = "/tmp/arbor-os-test-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

} // namespace arbor::os::test
