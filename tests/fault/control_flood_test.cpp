// The control socket under a crowd: as many idle connections as this
// process's descriptor limit allows (20,000 where the hard limit permits),
// then one connection that pipelines 20,000 `status` lines and leaves. Another
// client's `status` is still answered (the times are printed), an instance
// killed meanwhile is restarted, and the daemon's RSS stays bounded.

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

int connect_to(const std::string& path, bool nonblocking) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0
      && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// One `status` on a fresh connection: its reply line, or "" after 10 s.
std::string status_line(const std::string& sock, std::chrono::microseconds& took) {
  auto start = std::chrono::steady_clock::now();
  int fd = connect_to(sock, false);
  if (fd < 0) return "";
  std::string req = "{\"v\":1,\"id\":1,\"cmd\":\"status\"}\n", got;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    while (got.find('\n') == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      char buf[65536];
      ssize_t n = ::poll(&p, 1, 10000) > 0 ? ::recv(fd, buf, sizeof buf, 0) : -1;
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now()
                                                                - start);
  return got.substr(0, got.find('\n'));
}

/// The slowest of `n` status round trips, each REQUIREd to be answered.
std::chrono::microseconds slowest_status(const std::string& sock, int n) {
  std::chrono::microseconds worst{0};
  for (int i = 0; i < n; ++i) {
    std::chrono::microseconds took{};
    auto line = status_line(sock, took);
    REQUIRE(line.find("\"ok\":true") != std::string::npos);
    worst = std::max(worst, took);
  }
  return worst;
}

} // namespace

TEST_CASE("fault: 20,000 idle connections and a 20,000-line pipeline leave status answered and "
          "restarts working") {
  constexpr size_t wanted = 20000;
  rlimit rl{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  rlimit raised{rl.rlim_max, rl.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &raised) == 0);
  size_t room = rl.rlim_max > 300 ? static_cast<size_t>(rl.rlim_max) - 200 : 100;
  size_t idle_count = std::min(wanted, room);
  if (idle_count < wanted)
    std::cout << "control_flood: the hard descriptor limit is " << rl.rlim_max << ": "
              << idle_count << " idle connections instead of " << wanted << "\n";

  fault_daemon fd;
  fd.up("[svc]\nargs = " + child_args({"sleep"}) + "\n" + fd.app_env());
  std::string sock = fd.home + "/arbor.sock";
  long rss_start = rss_kib(fd.pid);
  auto quiet = slowest_status(sock, 5);

  std::vector<int> idle;
  idle.reserve(idle_count);
  for (size_t i = 0; i < idle_count; ++i) {
    int c = connect_to(sock, false);
    REQUIRE(c >= 0);
    idle.push_back(c);
  }
  auto crowded = slowest_status(sock, 20);
  size_t daemon_fds = open_fds(fd.pid).size();

  // An instance killed in the crowd is restarted.
  int before = fd.instance("svc#0")["pid"].get<int>();
  REQUIRE(before > 0);
  REQUIRE(::kill(before, SIGKILL) == 0);
  CHECK(wait_until([&] {
    auto i = fd.instance("svc#0");
    return i["pid"].get<int>() > 0 && i["pid"].get<int>() != before && is_up(i["state"]);
  }, 30s));

  // The pipeline: what the socket takes of 20,000 lines, then gone.
  int piped = connect_to(sock, true);
  REQUIRE(piped >= 0);
  std::string lines;
  for (size_t i = 1; i <= wanted; ++i)
    lines += "{\"v\":1,\"id\":" + std::to_string(i) + ",\"cmd\":\"status\"}\n";
  size_t taken = 0;
  for (pollfd p{piped, POLLOUT, 0}; taken < lines.size() && ::poll(&p, 1, 200) > 0;) {
    ssize_t n = ::send(piped, lines.data() + taken, lines.size() - taken, MSG_NOSIGNAL);
    if (n <= 0) break;
    taken += static_cast<size_t>(n);
  }
  ::close(piped);
  auto after_pipeline = slowest_status(sock, 20);
  long rss_end = rss_kib(fd.pid);

  std::cout << "control_flood: " << idle_count << " idle connections (daemon holds "
            << daemon_fds << " descriptors); the pipeline's socket took " << taken << " of "
            << lines.size() << " bytes; slowest status of 5 quiet: " << quiet.count() / 1000.0
            << " ms, of 20 in the crowd: " << crowded.count() / 1000.0
            << " ms, of 20 after the pipeline: " << after_pipeline.count() / 1000.0
            << " ms; RSS " << rss_start << " KiB -> " << rss_end << " KiB\n";
  // Bounded: the daemon keeps a few hundred connections, not the crowd.
  CHECK(daemon_fds < 1000);
  CHECK(rss_end < rss_start + 64 * 1024);
  for (int c : idle) ::close(c);
  fd.down_and_check_clean();
  ::setrlimit(RLIMIT_NOFILE, &rl);
}
