#include "os/listen_socket.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace arbor::os {



namespace {

std::string failure(const std::string& address, const std::string& what, int err) {
  return "listen " + address + ": " + what + std::strerror(err);
}

/// The socket address of `a`; `v6_any`: ":port" as [::] (dual stack).
socklen_t make_sockaddr(const listen_address& a, bool v6_any, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.type == listen_address::kind::unix_path) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, a.path.c_str(), a.path.size() + 1);
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.path.size() + 1);
  }
  if ((a.host.empty() && v6_any) || a.host.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a.port);
    in6->sin6_addr = in6addr_any;
    if (!a.host.empty()) ::inet_pton(AF_INET6, a.host.c_str(), &in6->sin6_addr);
    return sizeof(sockaddr_in6);
  }
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(a.port);
  in->sin_addr.s_addr = htonl(INADDR_ANY);
  if (!a.host.empty()) ::inet_pton(AF_INET, a.host.c_str(), &in->sin_addr);
  return sizeof(sockaddr_in);
}

/// A unix socket file left by a run before: removed if it is a socket
/// nobody listens on. "" or why it cannot be bound.
std::string clear_stale_file(const listen_address& a) {
  struct stat st;
  if (::lstat(a.path.c_str(), &st) != 0) return {};
  if (!S_ISSOCK(st.st_mode)) return "'" + a.path + "' exists and is not a socket";
  sockaddr_storage ss;
  auto len = make_sockaddr(a, false, ss);
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return {};
  int rc = ::connect(probe, reinterpret_cast<sockaddr*>(&ss), len);
  int err = errno;
  ::close(probe);
  if (rc == 0) return "'" + a.path + "' is in use (something listens on it)";
  if (err == ECONNREFUSED) ::unlink(a.path.c_str());
  return {};
}

/// chmod/chown of a bound unix socket file. "" or what failed.
std::string set_file_access(const listen_spec& spec, const std::string& path) {
  if (auto mode = parse_socket_mode(spec.mode); mode && ::chmod(path.c_str(), *mode) != 0)
    return "chmod " + spec.mode + ": " + std::strerror(errno);
  if (spec.owner.empty()) return {};
  auto colon = spec.owner.find(':');
  std::string user = spec.owner.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : spec.owner.substr(colon + 1);
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (auto* pw = ::getpwnam(user.c_str())) {
    uid = pw->pw_uid;
  } else if (!user.empty() && user.find_first_not_of("0123456789") == std::string::npos) {
    uid = static_cast<uid_t>(std::stoul(user));
  } else {
    return "owner: no user '" + user + "'";
  }
  if (!group.empty()) {
    if (auto* gr = ::getgrnam(group.c_str()))
      gid = gr->gr_gid;
    else if (group.find_first_not_of("0123456789") == std::string::npos)
      gid = static_cast<gid_t>(std::stoul(group));
    else
      return "owner: no group '" + group + "'";
  }
  if (::chown(path.c_str(), uid, gid) != 0)
    return "chown " + spec.owner + ": " + std::strerror(errno);
  return {};
}

} // namespace

std::shared_ptr<listen_socket> listen_socket::bind(const listen_spec& spec, std::string& error) {
  auto a = parse_listen_address(spec.address, error);
  if (!a) return nullptr;
  const std::string shown = a->canonical();
  if (a->type == listen_address::kind::unix_path) {
    if (auto why = clear_stale_file(*a); !why.empty()) {
      error = "listen " + shown + ": " + why;
      return nullptr;
    }
  }
  sockaddr_storage ss;
  bool v6_any = a->type == listen_address::kind::tcp && a->host.empty();
  socklen_t len = make_sockaddr(*a, v6_any, ss);
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 && v6_any && errno == EAFNOSUPPORT) { // no IPv6 here: every IPv4 address
    len = make_sockaddr(*a, false, ss);
    fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) {
    error = failure(shown, "socket: ", errno);
    return nullptr;
  }
  const int on = 1, off = 0;
  if (ss.ss_family != AF_UNIX) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (ss.ss_family == AF_INET6 && a->host.empty())
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0
      || ::listen(fd, SOMAXCONN) != 0) { // SOMAXCONN: the kernel caps it at net.core.somaxconn
    error = failure(shown, "", errno);
    ::close(fd);
    return nullptr;
  }
  auto sock = std::make_shared<listen_socket>(fd, shown, a->type == listen_address::kind::unix_path);
  if (a->type == listen_address::kind::unix_path) {
    if (auto why = set_file_access(spec, a->path); !why.empty()) {
      error = "listen " + shown + ": " + why;
      sock->remove_file();
      return nullptr;
    }
  }
  return sock;
}

listen_socket::listen_socket(int fd, std::string address, bool made_file)
  : fd_(fd), address_(std::move(address)), made_file_(made_file) {}

listen_socket::~listen_socket() {
  if (fd_ >= 0) ::close(fd_);
}

void listen_socket::remove_file() {
  if (!made_file_) return;
  made_file_ = false;
  std::string err;
  auto a = parse_listen_address(address_, err);
  struct stat file;
  // A socket file only: something else written there since is not ours.
  if (a && ::lstat(a->path.c_str(), &file) == 0 && S_ISSOCK(file.st_mode)) ::unlink(a->path.c_str());
}

} // namespace arbor::os
