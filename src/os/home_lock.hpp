#pragma once

// Whether a daemon holds <home>/arbor.lock (serve.cpp takes it exclusively
// for its lifetime: one daemon per home). Header-only: arbor-keeper and the
// CLI ask it without linking the daemon's code.

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace arbor::os {

/// True if a process holds <home>/arbor.lock: a daemon runs or is starting.
inline bool home_locked(const std::string& home) {
  int fd = ::open((home + "/arbor.lock").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false; // no daemon ever ran here, or unreadable: nobody holds it that we can tell
  // A shared lock, dropped at once: it fails only while a daemon holds its
  // exclusive one, and a daemon taking it fails only in the instant between
  // these two calls.
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

} // namespace arbor::os
