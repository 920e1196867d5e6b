#pragma once

// Listening sockets arbor binds for an app's `listen` and hands to its runs
// (systemd's socket-activation protocol).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "os/listen_address.hpp"

namespace arbor::os {

/// One bound, listening socket. Closes it when the last holder lets go; a
/// unix socket file this process created is unlinked by forget_file().
class listen_socket {
public:
  /// Binds `spec` (SO_REUSEADDR, backlog SOMAXCONN, close-on-exec; a unix
  /// socket's stale file is removed only if it is a socket nobody listens
  /// on, then chmod/chown). nullptr with `error` ("listen 127.0.0.1:80:
  /// Permission denied").
  static std::shared_ptr<listen_socket> bind(const listen_spec& spec, std::string& error);
  /// Takes `fd` (a socket bound elsewhere: handed back by the keeper).
  listen_socket(int fd, std::string address, bool made_file);
  ~listen_socket();
  listen_socket(const listen_socket&) = delete;
  listen_socket& operator=(const listen_socket&) = delete;

  int fd() const { return fd_; }
  const std::string& address() const { return address_; } ///< canonical
  bool made_file() const { return made_file_; }
  /// Unlinks the unix socket file this socket created, if it is still ours.
  void remove_file();

private:
  int fd_ = -1;
  std::string address_;
  bool made_file_ = false;
};

/// The sockets one app's runs get, in `listen` order, with what the
/// protocol tells them: built once per app, read by every spawn.
struct listen_set {
  std::vector<std::shared_ptr<listen_socket>> sockets;
  std::vector<int> fds;   ///< sockets[i]->fd(), for the spawn path
  std::string names;      ///< "LISTEN_FDNAMES=a:b"
};

} // namespace arbor::os
