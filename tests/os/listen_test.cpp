// `listen`: addresses parsed and compared, sockets bound (and a unix
// socket's stale file), the registry's reuse by app and address, and a spawn
// handing sockets by systemd's protocol (fds 3.., LISTEN_PID = the child's pid).

#include <catch2/catch.hpp>

#include "os/listen_registry.hpp"
#include "os/spawn.hpp"
#include "util.hpp"
#include "../helpers/loopback.hpp"

#include <filesystem>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::listen_spec;
using arbor::os::test::reap;

namespace {

const std::string child_bin = ARBOR_TEST_CHILD;

/// A loopback port free right now (bound to port 0 and released).
uint16_t free_port() {
  uint16_t port = 0;
  ::close(arbor::test::listen_loopback(0, &port));
  return port;
}

std::string loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

std::string drain(int fd) {
  std::string out;
  char buf[512];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return out + "<timeout>";
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

/// Runs `arbor-test-child MODE` from a plan with `set`; its stdout.
std::string run_with(const std::shared_ptr<const listen_set>& set, const std::string& mode,
                     pid_t& pid) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  spawn_plan plan{child_bin, {child_bin, mode}, nullptr, {}, "", set};
  auto res = plan.spawn(p[1], -1);
  ::close(p[1]);
  REQUIRE(res.ok());
  pid = res.pid;
  auto out = drain(p[0]);
  ::close(p[0]);
  CHECK(reap(res.pid));
  return out;
}

} // namespace

TEST_CASE("listen address: the forms parse to one canonical spelling") {
  std::string err;
  CHECK(parse_listen_address("127.0.0.1:3000", err)->canonical() == "127.0.0.1:3000");
  CHECK(parse_listen_address("[::1]:3000", err)->canonical() == "[::1]:3000");
  CHECK(parse_listen_address(":3000", err)->canonical() == ":3000");
  CHECK(parse_listen_address("unix:/run/app.sock", err)->canonical() == "unix:/run/app.sock");
  auto all = *parse_listen_address(":80", err);
  CHECK(all.collides_with(*parse_listen_address("127.0.0.1:80", err)));
  CHECK_FALSE(all.collides_with(*parse_listen_address("127.0.0.1:81", err)));
  CHECK_FALSE(parse_listen_address("127.0.0.1:80", err)->collides_with(*parse_listen_address("127.0.0.2:80", err)));
}

TEST_CASE("listen address: bad forms say what is wrong") {
  std::string err;
  CHECK_FALSE(parse_listen_address("localhost:3000", err));
  CHECK(err.find("numeric address") != std::string::npos);
  CHECK_FALSE(parse_listen_address("::1:3000", err));
  CHECK(err.find("in brackets (\"[::1]:3000\")") != std::string::npos);
  CHECK_FALSE(parse_listen_address("127.0.0.1:70000", err));
  CHECK(err.find("not a port number") != std::string::npos);
  CHECK_FALSE(parse_listen_address("3000", err));
  CHECK_FALSE(parse_listen_address("unix:run/app.sock", err));
  CHECK(err.find("absolute path") != std::string::npos);
  CHECK(parse_socket_mode("0660") == 0660u);
  CHECK_FALSE(parse_socket_mode("0968"));
  CHECK(valid_socket_owner("www-data:www-data"));
  CHECK_FALSE(valid_socket_owner("a b"));
  CHECK_FALSE(valid_fd_name("a:b"));
}

TEST_CASE("listen socket: bound, listening, close-on-exec, and a second bind is refused") {
  std::string err;
  auto addr = loopback(free_port());
  auto s = listen_socket::bind({addr, "", "", ""}, err);
  REQUIRE(s);
  int accepting = 0;
  socklen_t len = sizeof accepting;
  REQUIRE(::getsockopt(s->fd(), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0);
  CHECK(accepting == 1);
  CHECK((::fcntl(s->fd(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK_FALSE(listen_socket::bind({addr, "", "", ""}, err));
  CHECK(err == "listen " + addr + ": Address already in use");
}

TEST_CASE("listen socket: a unix socket's stale file is replaced, a live one is not") {
  auto dir = std::filesystem::temp_directory_path() / ("arbor-listen-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "app.sock").string();
  std::string err;
  {
    auto first = listen_socket::bind({"unix:" + path, "", "0600", ""}, err);
    REQUIRE(first);
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK_FALSE(listen_socket::bind({"unix:" + path, "", "", ""}, err)); // someone listens
    CHECK(err.find("is in use") != std::string::npos);
  } // closed, its file left behind (as after a crash)
  auto again = listen_socket::bind({"unix:" + path, "", "", ""}, err);
  INFO(err);
  REQUIRE(again);
  again->remove_file();
  CHECK_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

TEST_CASE("listen registry: the same app and address keep their socket, a dropped one closes") {
  listen_registry reg;
  std::vector<std::string> bound, dropped;
  reg.on_bound([&](const std::string& key, int) { bound.push_back(key); });
  reg.on_dropped([&](const std::string& key) { dropped.push_back(key); });
  std::string err;
  auto a = loopback(free_port()), b = loopback(free_port());
  auto first = reg.acquire("web", {{a, "", "", ""}}, err);
  REQUIRE(first);
  CHECK(first->names == "LISTEN_FDNAMES=web");
  auto same = reg.acquire("web", {{a, "", "", ""}}, err);
  CHECK(same == first);
  auto moved = reg.acquire("web", {{a, "http", "", ""}, {b, "admin", "", ""}}, err);
  REQUIRE(moved);
  CHECK(moved->fds.front() == first->fds.front()); // same socket, not bound again
  CHECK(moved->names == "LISTEN_FDNAMES=http:admin");
  CHECK(bound == std::vector<std::string>{"web " + a, "web " + b});
  auto only_b = reg.acquire("web", {{b, "", "", ""}}, err);
  CHECK(dropped == std::vector<std::string>{"web " + a});
  CHECK(only_b->fds.front() == moved->fds.back());
  // Another app cannot take b; nothing of web changes for that.
  CHECK_FALSE(reg.acquire("other", {{b, "", "", ""}}, err));
  CHECK(err.find("Address already in use") != std::string::npos);
  reg.release("web");
  CHECK(dropped.size() == 2);
}

TEST_CASE("spawn: sockets at 3.., LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID = the child's pid",
          "[spawn]") {
  listen_registry reg;
  std::string err;
  auto set = reg.acquire("web.api", {{loopback(free_port()), "", "", ""},
                                     {loopback(free_port()), "admin", "", ""}}, err);
  REQUIRE(set);
  pid_t pid = 0;
  auto env = run_with(set, "env", pid);
  CHECK(env.find("LISTEN_FDS=2\n") != std::string::npos);
  CHECK(env.find("LISTEN_FDNAMES=api:admin\n") != std::string::npos);
  CHECK(env.find("LISTEN_PID=" + std::to_string(pid) + "\n") != std::string::npos);
  CHECK(run_with(set, "fds", pid) == "0 1 2 3 4\n");
  // A plan without sockets passes none of the variables on.
  ::setenv("LISTEN_FDS", "7", 1);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  spawn_plan plain{child_bin, {child_bin, "env"}, current_environment(), ""};
  ::unsetenv("LISTEN_FDS");
  auto res = plain.spawn(p[1], -1);
  ::close(p[1]);
  REQUIRE(res.ok());
  CHECK(drain(p[0]).find("LISTEN_FDS=") == std::string::npos);
  ::close(p[0]);
  CHECK(reap(res.pid));
}
