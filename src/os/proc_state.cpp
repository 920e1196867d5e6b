#include "os/proc_state.hpp"

#include <cstdio>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

namespace arbor::os {

bool stopped_by_signal(pid_t pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char text[1024]; // comm is at most 64 bytes: the state is well within
  ssize_t n = ::read(fd, text, sizeof text);
  ::close(fd);
  if (n <= 0)
    return false;
  std::string_view line{text, static_cast<size_t>(n)};
  size_t close = line.rfind(')');
  if (close == std::string_view::npos || close + 2 >= line.size())
    return false;
  char state = line[close + 2]; // ") T 1 ..."
  return state == 'T' || state == 't';
}

} // namespace arbor::os
