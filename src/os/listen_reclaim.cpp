#include "os/listen_reclaim.hpp"

#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/identity.hpp"

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

namespace arbor::os {

std::string listening_address_of(int fd) {
  int accepting = 0, type = 0;
  socklen_t len = sizeof accepting;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) return {};
  len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return {};
  sockaddr_storage ss{};
  len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  listen_address a;
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    a.type = listen_address::kind::unix_path;
    a.path = un->sun_path;
    if (a.path.empty()) return {}; // an abstract or unnamed socket: not one of ours
  } else if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    a.port = ntohs(in->sin_port);
    if (in->sin_addr.s_addr != htonl(INADDR_ANY))
      a.host = ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    a.port = ntohs(in6->sin6_port);
    if (std::memcmp(&in6->sin6_addr, &in6addr_any, sizeof in6addr_any) != 0)
      a.host = ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  } else {
    return {};
  }
  return a.canonical();
}

std::vector<std::pair<std::string, std::shared_ptr<listen_socket>>> reclaim_listen_sockets(
  const std::string& home, std::set<std::pair<std::string, std::string>> wanted) {
  std::vector<std::pair<std::string, std::shared_ptr<listen_socket>>> out;
  if (home.empty() || wanted.empty()) return out;
  for (const auto& p : scan_home(home)) {
    auto first = wanted.lower_bound({p.id.app, ""});
    if (first == wanted.end() || first->first != p.id.app) continue; // nothing wanted of its app
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, p.pid, 0));
    if (pidfd < 0) continue;
    for (int target = 3; target < 3 + static_cast<int>(max_listen_fds); ++target) {
      int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, target, 0)); // close-on-exec
      if (fd < 0) continue;
      auto address = listening_address_of(fd);
      if (!wanted.erase({p.id.app, address})) {
        ::close(fd);
        continue;
      }
      // A unix socket's file was made by a daemon of this home: ours to remove.
      bool is_unix = address.compare(0, 5, "unix:") == 0;
      out.emplace_back(p.id.app, std::make_shared<listen_socket>(fd, address, is_unix));
    }
    ::close(pidfd);
  }
  return out;
}

} // namespace arbor::os
