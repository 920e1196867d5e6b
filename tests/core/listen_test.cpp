// `listen` end to end through the real daemon: what each run is handed
// (systemd's protocol), the same socket (its inode) across a crash, a reload,
// a scale and the daemon's SIGKILL, an address in use, an apply that moves
// the app, and `check` on a bad address.

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "cli_util.hpp"
#include "harness.hpp"
#include "net_util.hpp"
#include "os/identity.hpp"
#include "../helpers/loopback.hpp"

using namespace arbor::test;
using namespace std::chrono_literals;

namespace {

/// "socket:[N]" of `pid`'s fd 3, "" if it has none.
std::string fd3_of(int pid) {
  char buf[64];
  auto link = "/proc/" + std::to_string(pid) + "/fd/3";
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
}

/// "socket:[N]" of the socket listening on 127.0.0.1:`port` (/proc/net/tcp), "" if none.
std::string listener_on(uint16_t port) {
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line); // header
  char want[32];
  std::snprintf(want, sizeof want, "0100007F:%04X", port);
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
    in >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (local == want && state == "0A") return "socket:[" + inode + "]";
  }
  return {};
}

int pid_of(const std::string& home, const std::string& id) {
  auto x = instance_of(home, id);
  return x.is_null() ? 0 : x.value("pid", 0);
}

/// Waits until `id` runs with a pid other than `old`; its pid.
int new_pid(const std::string& home, const std::string& id, int old) {
  int pid = 0;
  REQUIRE(eventually([&] {
    pid = pid_of(home, id);
    return pid != 0 && pid != old && !fd3_of(pid).empty();
  }));
  return pid;
}

std::string app_toml(const std::string& listen, int instances = 1) {
  return "[web]\nargs = " + child_args({"sleep"}) + "\ninstances = " + std::to_string(instances)
         + "\nmin_uptime = 50\nlisten = " + listen + "\n";
}

/// A home of its own whose daemon runs `web` from `toml` on `ports` free
/// loopback ports (the first in `port`).
struct web_daemon {
  temp_dir d;
  std::string home = d.file("home");
  daemon_guard guard{home};
  std::string cfg = d.file("arbor.toml");
  uint16_t port;
  explicit web_daemon(int ports = 1) : port(free_ports(ports)) {}
  std::string address(int i = 0) const { return "127.0.0.1:" + std::to_string(port + i); }
  void up(const std::string& listen, int instances = 1) {
    up_with(home, cfg, app_toml(listen, instances));
  }
  /// `web`, one instance, on address(0): the pid of its run, its fd 3 in `sock`.
  int up_single(std::string& sock) {
    up("\"" + address() + "\"");
    int pid = new_pid(home, "web#0", 0);
    sock = fd3_of(pid);
    return pid;
  }
};

} // namespace

TEST_CASE("listen: each run gets LISTEN_FDS, LISTEN_PID (its own pid), LISTEN_FDNAMES and fd 3") {
  web_daemon w;
  w.up("{ address = \"" + w.address() + "\", name = \"http\" }", 2);
  auto sock = listener_on(w.port);
  REQUIRE(!sock.empty());
  for (auto id : {"web#0", "web#1"}) {
    int pid = new_pid(w.home, id, 0);
    CHECK(arbor::os::environ_value(pid, "LISTEN_FDS") == "1");
    CHECK(arbor::os::environ_value(pid, "LISTEN_PID") == std::to_string(pid));
    CHECK(arbor::os::environ_value(pid, "LISTEN_FDNAMES") == "http");
    CHECK(fd3_of(pid) == sock); // the one listening socket, shared
  }
  REQUIRE(run_arbor({"down"}, w.home).rc == 0);
}

TEST_CASE("listen: the same socket across a crash, a reload, a scale and the daemon's SIGKILL") {
  web_daemon w;
  std::string sock;
  int pid = w.up_single(sock);
  REQUIRE(sock == listener_on(w.port));

  REQUIRE(signal_if_of_home(pid, w.home, SIGKILL)); // a crash
  pid = new_pid(w.home, "web#0", pid);
  CHECK(fd3_of(pid) == sock);

  REQUIRE(run_arbor({"reload", "web"}, w.home).rc == 0);
  pid = new_pid(w.home, "web#0", pid);
  CHECK(fd3_of(pid) == sock);

  REQUIRE(run_arbor({"scale", "web", "2"}, w.home).rc == 0);
  CHECK(fd3_of(new_pid(w.home, "web#1", 0)) == sock);

  int daemon = daemon_pid(w.home);
  REQUIRE(::kill(daemon, SIGKILL) == 0);
  REQUIRE(wait_gone(daemon));
  auto up = run_arbor({"up", w.cfg}, w.home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(pid_of(w.home, "web#0") == pid); // adopted, not restarted
  REQUIRE(signal_if_of_home(pid, w.home, SIGKILL)); // the new daemon's first spawn
  pid = new_pid(w.home, "web#0", pid);
  CHECK(fd3_of(pid) == sock); // handed back by the keeper, not bound again
  CHECK(listener_on(w.port) == sock);
  REQUIRE(run_arbor({"down"}, w.home).rc == 0);
}

TEST_CASE("listen: with the keeper killed too, the socket is taken back from the adopted run") {
  web_daemon w;
  std::string sock;
  int pid = w.up_single(sock);
  auto keepers = programs_of_home(w.home, "arbor-keeper");
  REQUIRE(!keepers.empty());
  for (int k : keepers) signal_if_of_home(k, w.home, SIGSTOP); // it would start a daemon at once
  int daemon = daemon_pid(w.home);
  REQUIRE(::kill(daemon, SIGKILL) == 0);
  REQUIRE(wait_gone(daemon));
  for (int k : keepers) {
    REQUIRE(signal_if_of_home(k, w.home, SIGKILL));
    REQUIRE(wait_gone(k));
  }
  auto up = run_arbor({"up", w.cfg}, w.home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  REQUIRE(signal_if_of_home(pid, w.home, SIGKILL)); // the only other holder goes
  pid = new_pid(w.home, "web#0", pid);
  CHECK(fd3_of(pid) == sock);
  CHECK(listener_on(w.port) == sock);
  REQUIRE(run_arbor({"down"}, w.home).rc == 0);
}

TEST_CASE("listen: an address in use fails the app with the reason") {
  web_daemon w;
  int taken = arbor::test::listen_loopback(w.port);
  REQUIRE(taken >= 0);
  std::ofstream(w.cfg) << app_toml("\"" + w.address() + "\"", 1);
  auto up = run_arbor({"up", w.cfg}, w.home);
  CHECK(up.rc == 1); // up names what it could not start
  CHECK_THAT(up.err, Catch::Contains("web#0 could not be started: listen " + w.address()
                                     + ": Address already in use"));
  nlohmann::json x;
  REQUIRE(eventually([&] {
    x = instance_of(w.home, "web#0");
    return !x.is_null() && x.value("state", "") == "failed";
  }));
  CHECK_THAT(x.value("reason", ""),
             Catch::Contains("listen " + w.address() + ": Address already in use"));
  ::close(taken);
  REQUIRE(run_arbor({"down"}, w.home).rc == 0);
}

TEST_CASE("listen: an apply that changes the address moves the app and closes the old socket") {
  web_daemon w(2);
  std::string sock;
  int pid = w.up_single(sock);
  REQUIRE(sock == listener_on(w.port));
  std::ofstream(w.cfg) << app_toml("\"" + w.address(1) + "\"");
  auto ap = run_arbor({"apply", w.cfg}, w.home);
  INFO(ap.out << ap.err);
  REQUIRE(ap.rc == 0);
  pid = new_pid(w.home, "web#0", pid);
  CHECK(fd3_of(pid) == listener_on(static_cast<uint16_t>(w.port + 1)));
  CHECK(eventually([&] { return listener_on(w.port).empty(); }));
  REQUIRE(run_arbor({"down"}, w.home).rc == 0);
}

TEST_CASE("listen: check rejects a bad address with its position") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << app_toml("\"localhost:80\"");
  auto r = run_arbor({"check", cfg}, d.file("home"));
  CHECK(r.rc != 0);
  CHECK_THAT(r.out + r.err, Catch::Contains("arbor.toml:5:10: 'listen': 'localhost:80': the host "
                                            "must be a numeric address"));
}
