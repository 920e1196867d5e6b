// sd_notify over a real datagram socket: a path socket in a temp dir, an
// abstract one, $NOTIFY_SOCKET, and the ways it declines to send.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/sd_notify.hpp"

using arbor::os::sd_notify;

namespace {

/// A bound AF_UNIX datagram socket standing in for systemd's notify socket.
struct fake_notify_socket {
  int fd = -1;
  std::string name;   ///< as $NOTIFY_SOCKET would hold it ("/path" or "@abstract")
  std::string dir;

  /// A path socket in a fresh temp dir, or with `abstract` an abstract one.
  explicit fake_notify_socket(bool abstract = false) {
    char tmpl[] = "/tmp/arbor-notify-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    name = abstract ? "@arbor-test-" + dir.substr(dir.rfind('-') + 1) + "-"
                        + std::to_string(::getpid())
                    : dir + "/notify";
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (abstract) addr.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size()
                                      + (abstract ? 0 : 1));
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  }
  ~fake_notify_socket() {
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  /// The next datagram, or "" if none arrives within `timeout_ms`.
  std::string receive(int timeout_ms = 5000) const {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return {};
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
  }
};

/// Sets or unsets $NOTIFY_SOCKET for one test and restores it after.
struct notify_env {
  std::string saved;
  bool had = false;
  explicit notify_env(const char* value) {
    if (const char* v = std::getenv("NOTIFY_SOCKET")) {
      had = true;
      saved = v;
    }
    if (value)
      ::setenv("NOTIFY_SOCKET", value, 1);
    else
      ::unsetenv("NOTIFY_SOCKET");
  }
  ~notify_env() {
    if (had)
      ::setenv("NOTIFY_SOCKET", saved.c_str(), 1);
    else
      ::unsetenv("NOTIFY_SOCKET");
  }
};

} // namespace

TEST_CASE("sd_notify: a path socket receives the state as one datagram") {
  fake_notify_socket s;
  REQUIRE(sd_notify(s.name, "READY=1\nMAINPID=42"));
  CHECK(s.receive() == "READY=1\nMAINPID=42");
  REQUIRE(sd_notify(s.name, "STOPPING=1"));
  CHECK(s.receive() == "STOPPING=1");
}

TEST_CASE("sd_notify: an abstract socket ('@' in NOTIFY_SOCKET) receives it") {
  fake_notify_socket s(true);
  REQUIRE(s.name[0] == '@');
  REQUIRE(sd_notify(s.name, "READY=1"));
  CHECK(s.receive() == "READY=1");
}

TEST_CASE("sd_notify: without a socket argument it sends to $NOTIFY_SOCKET") {
  fake_notify_socket s;
  notify_env env(s.name.c_str());
  REQUIRE(sd_notify("READY=1"));
  CHECK(s.receive() == "READY=1");
}

TEST_CASE("sd_notify: NOTIFY_SOCKET unset or empty: nothing sent, false") {
  {
    notify_env env(nullptr);
    CHECK_FALSE(sd_notify("READY=1"));
  }
  {
    notify_env env("");
    CHECK_FALSE(sd_notify("READY=1"));
  }
  CHECK_FALSE(sd_notify("", "READY=1"));
}

TEST_CASE("sd_notify: a socket that is gone, a relative name or one too long: false") {
  std::string gone;
  {
    fake_notify_socket s;
    gone = s.name;
  }
  CHECK_FALSE(sd_notify(gone, "READY=1"));
  CHECK_FALSE(sd_notify("relative/notify", "READY=1"));
  CHECK_FALSE(sd_notify("/" + std::string(sizeof(sockaddr_un{}.sun_path), 'x'), "READY=1"));
  CHECK_FALSE(sd_notify("@" + std::string(sizeof(sockaddr_un{}.sun_path), 'x'), "READY=1"));
}

TEST_CASE("sd_notify: a path that just fits sockaddr_un still works") {
  // sun_path holds 108 bytes with the NUL: a 107-byte path is the longest.
  fake_notify_socket dir;
  auto base = dir.dir + "/";
  auto longest = base + std::string(sizeof(sockaddr_un{}.sun_path) - 1 - base.size(), 'n');
  REQUIRE(longest.size() == sizeof(sockaddr_un{}.sun_path) - 1);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, longest.data(), longest.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  CHECK(arbor::os::sd_notify(longest, "READY=1"));
  char buf[16];
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  CHECK(std::string(buf, static_cast<size_t>(::recv(fd, buf, sizeof buf, 0))) == "READY=1");
  ::close(fd);
}

TEST_CASE("sd_notify: take_notify_socket returns the value and removes it from the environment") {
  notify_env env("/run/systemd/notify");
  CHECK(arbor::os::take_notify_socket() == "/run/systemd/notify");
  CHECK(std::getenv("NOTIFY_SOCKET") == nullptr);
  CHECK(arbor::os::take_notify_socket().empty());
}
