#pragma once

// The listening sockets the keeper holds for the daemon (an app's `listen`):
// unlike output pipes they are never read, only kept open, so that a new
// daemon takes the very same sockets back at hello and no client is refused
// while no daemon runs. A hold with the same id replaces the descriptor.

#include <map>
#include <string>

namespace arbor::keeper::detail {

class socket_holds {
public:
  socket_holds() = default;
  ~socket_holds() { clear(); }
  socket_holds(const socket_holds&) = delete;
  socket_holds& operator=(const socket_holds&) = delete;

  /// Takes `fd` (a socket) under `id`; closes one held under it before.
  void hold(const std::string& id, int fd);
  /// Closes the one held under `id`, if any.
  void release(const std::string& id);
  void clear();
  size_t size() const { return fds_.size(); }
  /// (id, descriptor) in id order; the keeper keeps them.
  const std::map<std::string, int>& all() const { return fds_; }

private:
  std::map<std::string, int> fds_;
};

} // namespace arbor::keeper::detail
