#include "probe/probe.hpp"

#include "os/exit_watcher.hpp"
#include "os/spawn.hpp"

#include "http/http.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// <sys/pidfd.h> has no extern "C" in glibc 2.36: use the raw syscall.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace arbor::probe {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds since(clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(clock::now() - start);
}

probe_result finish(bool ok, std::string detail, clock::time_point start) {
  return probe_result{ok, std::move(detail), since(start)};
}

std::string timed_out(milliseconds timeout) {
  return "timed out after " + std::to_string(timeout.count()) + "ms";
}

/// Milliseconds left until `deadline` for poll(): >= 0.
int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  // round up so a 0.4 ms remainder does not turn into a busy poll(…, 0)
  return static_cast<int>(std::clamp<long long>(left + 1, 0, 1 << 30));
}

bool parse_port(const std::string& s, uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

/// "host:port" or "[v6]:port" → host (without brackets) and port.
bool split_host_port(const std::string& hp, std::string& host, uint16_t& port) {
  std::string rest;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string::npos || close + 1 >= hp.size() || hp[close + 1] != ':') return false;
    host = hp.substr(1, close - 1);
    rest = hp.substr(close + 2);
  } else {
    auto colon = hp.rfind(':');
    if (colon == std::string::npos || hp.find(':') != colon) return false;
    host = hp.substr(0, colon);
    rest = hp.substr(colon + 1);
  }
  return !host.empty() && parse_port(rest, port);
}

} // namespace

std::string expand(const std::string& target, uint16_t port, uint32_t instance) {
  static const std::string port_key = "{port}";
  static const std::string instance_key = "{instance}";
  std::string out;
  out.reserve(target.size());
  for (size_t i = 0; i < target.size();) {
    if (target.compare(i, port_key.size(), port_key) == 0) {
      out += std::to_string(port);
      i += port_key.size();
    } else if (target.compare(i, instance_key.size(), instance_key) == 0) {
      out += std::to_string(instance);
      i += instance_key.size();
    } else {
      out += target[i++];
    }
  }
  return out;
}

// --- http --------------------------------------------------------------------

probe_result check_http(const std::string& url, milliseconds timeout) {
  auto start = clock::now();
  try {
    static const std::string scheme = "http://";
    if (url.compare(0, scheme.size(), scheme) != 0)
      return finish(false, "bad target: '" + url + "' (only http:// URLs)", start);
    auto rest = url.substr(scheme.size());
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string host;
    uint16_t port = 80;
    if (authority.find(':') == std::string::npos || (authority.front() == '[' && authority.back() == ']')) {
      host = authority;
      if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
    } else if (!split_host_port(authority, host, port)) {
      return finish(false, "bad target: '" + url + "' (expected http://host[:port][/path])", start);
    }
    if (host.empty())
      return finish(false, "bad target: '" + url + "' (no host)", start);

    std::string why;
    auto* mod = http::module(&why);
    if (mod == nullptr)
      return finish(false, "http: " + why, start);
    auto res = mod->get(host, port, path, timeout);
    switch (res.what) {
      case http::get_result::outcome::ok:
        return finish(res.status >= 200 && res.status < 400, "HTTP " + std::to_string(res.status),
                      start);
      case http::get_result::outcome::timed_out:
        return finish(false, timed_out(timeout), start);
      case http::get_result::outcome::connect_failed:
        return finish(false, "connect: cannot connect to " + authority, start);
      case http::get_result::outcome::failed:
        break;
    }
    return finish(false, "http: " + res.error, start);
  } catch (const std::exception& e) {
    return finish(false, std::string{"http: "} + e.what(), start);
  }
}

// --- tcp ---------------------------------------------------------------------

probe_result check_tcp(const std::string& host_port, milliseconds timeout) {
  auto start = clock::now();
  auto deadline = start + timeout;
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(host_port, host, port))
    return finish(false, "bad target: '" + host_port + "' (expected host:port)", start);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0)
    return finish(false, "resolve '" + host + "': " + ::gai_strerror(rc), start);

  std::string last = "connect: no address for '" + host + "'";
  bool ok = false;
  for (addrinfo* ai = list; ai && !ok; ai = ai->ai_next) {
    if (clock::now() >= deadline) {
      last = timed_out(timeout);
      break;
    }
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = std::string{"socket: "} + std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int n;
        do {
          n = ::poll(&p, 1, remaining_ms(deadline));
        } while (n < 0 && errno == EINTR && clock::now() < deadline);
        if (n <= 0) {
          ::close(fd);
          last = timed_out(timeout);
          break;
        }
        socklen_t len = sizeof err;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
    }
    ::close(fd);
    if (err == 0) ok = true;
    else last = std::string{"connect: "} + std::strerror(err);
  }
  ::freeaddrinfo(list);
  if (ok) return finish(true, "connected to " + host_port, start);
  return finish(false, last, start);
}

// --- exec --------------------------------------------------------------------

probe_result check_exec(const std::string& command, milliseconds timeout) {
  auto start = clock::now();
  auto deadline = start + timeout;
  try {
    os::spawn_plan plan("/bin/sh", {"/bin/sh", "-c", command}, os::current_environment(), "");
    auto sp = plan.spawn(-1, -1);
    if (!sp.ok()) return finish(false, "spawn: " + sp.what, start);
    pid_t pid = sp.pid;

    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    bool exited = false;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      for (;;) {
        int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0) { exited = true; break; }
        if (n == 0 || errno != EINTR || clock::now() >= deadline) break;
      }
      ::close(pidfd);
    } else {
      // No pidfd (old kernel): poll waitid(WNOWAIT) every few ms.
      for (;;) {
        siginfo_t si{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
          exited = true;
          break;
        }
        if (clock::now() >= deadline) break;
        ::usleep(2000);
      }
    }
    // The shell is still unreaped (a zombie at worst), so its pgid cannot
    // have been reused: killing the group is safe either way.
    os::signal_group(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!exited) return finish(false, timed_out(timeout), start);
    os::exit_record rec;
    rec.pid = pid;
    if (WIFSIGNALED(status)) {
      rec.signaled = true;
      rec.code = WTERMSIG(status);
      rec.core_dumped = WCOREDUMP(status);
    } else {
      rec.code = WEXITSTATUS(status);
    }
    bool ok = !rec.signaled && rec.code == 0;
    return finish(ok, os::describe(rec), start);
  } catch (const std::exception& e) {
    return finish(false, std::string{"exec: "} + e.what(), start);
  }
}

} // namespace arbor::probe
