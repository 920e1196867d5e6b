#include "keeper/socket_holds.hpp"

#include <unistd.h>

namespace arbor::keeper::detail {

void socket_holds::hold(const std::string& id, int fd) {
  auto [it, fresh] = fds_.emplace(id, fd);
  if (fresh) return;
  ::close(it->second);
  it->second = fd;
}

void socket_holds::release(const std::string& id) {
  auto it = fds_.find(id);
  if (it == fds_.end()) return;
  ::close(it->second);
  fds_.erase(it);
}

void socket_holds::clear() {
  for (auto& kv : fds_) ::close(kv.second);
  fds_.clear();
}

} // namespace arbor::keeper::detail
