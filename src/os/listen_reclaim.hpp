#pragma once

// Taking listening sockets back from live runs when neither the daemon nor
// the keeper kept a copy (both were killed): the runs a new daemon adopts
// still hold them at fd 3.., so binding the address again would fail with
// EADDRINUSE. pidfd_getfd (Linux >= 5.6; ptrace access to the run: the same
// user, or CAP_SYS_PTRACE) copies them out of a run instead.

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "os/listen_socket.hpp"

namespace arbor::os {

/// For each (app, canonical address) of `wanted`, a copy of the socket
/// listening there that a live run of that app in `home` holds among its
/// fds 3..3+max_listen_fds-1, if one can be taken. One walk of /proc.
std::vector<std::pair<std::string, std::shared_ptr<listen_socket>>> reclaim_listen_sockets(
  const std::string& home, std::set<std::pair<std::string, std::string>> wanted);

/// The canonical `listen` address a listening socket is bound to ("" if it
/// is not a listening TCP or unix stream socket).
std::string listening_address_of(int fd);

} // namespace arbor::os
