#include "os/fd_limit.hpp"

#include <cerrno>
#include <cstring>

#include <sys/resource.h>

namespace arbor::os {

namespace {

uint64_t shown(rlim_t v) {
  return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v);
}

} // namespace

uint64_t fd_soft_limit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? shown(rl.rlim_cur) : UINT64_MAX;
}

uint64_t fd_hard_limit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? shown(rl.rlim_max) : UINT64_MAX;
}

std::string raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::strerror(errno);
  if (rl.rlim_cur >= rl.rlim_max) return {};
  rl.rlim_cur = rl.rlim_max;
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0 ? std::string{} : std::strerror(errno);
}

} // namespace arbor::os
