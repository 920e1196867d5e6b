// systemd integration with the real binaries: the daemon's READY=1 /
// STOPPING=1 on a fake NOTIFY_SOCKET (and the apps never seeing it), and
// `arbor startup`'s unit as printed and installed, through systemd-analyze.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_util.hpp"
#include "harness.hpp"

extern char** environ;

using namespace arbor::test;

namespace {

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

/// systemd's side of the notify protocol: a bound datagram socket.
struct fake_notify_socket {
  int fd = -1;
  std::string path;
  explicit fake_notify_socket(std::string p) : path(std::move(p)) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~fake_notify_socket() { ::close(fd); }
  /// The next datagram; "" if none arrives within `timeout`.
  std::string receive(std::chrono::milliseconds timeout = 20s) const {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
  }
};

struct proc {
  pid_t pid = -1;
  int pidfd = -1;
};

/// Spawns `bin ARGS...` with `env` ("K=V") first, then our environment minus
/// those keys; stdout/stderr to files.
proc spawn_with_env(const std::string& bin, const std::vector<std::string>& args,
                    const std::vector<std::string>& env, const std::string& out,
                    const std::string& err) {
  std::vector<std::string> argv_s{bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s = env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    bool overridden = false;
    for (auto& x : env)
      if (kv.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0) overridden = true;
    if (!overridden) env_s.push_back(kv);
  }
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  proc p;
  int rc = posix_spawn(&p.pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  p.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, p.pid, 0));
  REQUIRE(p.pidfd >= 0);
  return p;
}

/// Waits for `p` to exit and reaps it: its wait status, or -1 on timeout
/// (then it is killed).
int wait_exit(proc& p, std::chrono::milliseconds timeout) {
  pollfd pf{p.pidfd, POLLIN, 0};
  int n = ::poll(&pf, 1, static_cast<int>(timeout.count()));
  if (n <= 0) ::kill(p.pid, SIGKILL);
  int status = 0;
  ::waitpid(p.pid, &status, 0);
  ::close(p.pidfd);
  p.pidfd = -1;
  return n <= 0 ? -1 : status;
}

/// Waits until the file holds every one of `needles`; returns its content.
std::string wait_content(const std::string& path, const std::vector<std::string>& needles,
                         std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto text = slurp(path);
    bool all = true;
    for (auto& n : needles) all = all && contains(text, n);
    if (all || std::chrono::steady_clock::now() > deadline) return text;
    std::this_thread::sleep_for(10ms); // written by the daemon's log pump
  }
}

std::string daemon_bin() {
  return (std::filesystem::path(ARBOR_BIN).parent_path() / "arbor-daemon").string();
}

/// A long-running app and a probe that prints its environment and exits.
std::string notify_config() {
  return "[web.api]\nargs = " + child_args({"sleep"}) + "\n[probe]\nargs = "
         + child_args({"env"}) + "\nrestart = \"never\"\n";
}

/// The probe's output: once ARBOR_INSTANCE (appended after everything the app
/// inherits) is in, any inherited NOTIFY_SOCKET would be too.
std::string probe_env(const std::string& home) {
  return wait_content(home + "/logs/probe.out.log", {"ARBOR_APP=probe", "ARBOR_INSTANCE=0"});
}

} // namespace

TEST_CASE("notify: arbor run sends READY=1 once the tree is up, STOPPING=1 on SIGTERM") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << notify_config();
  fake_notify_socket sock(d.file("notify"));

  // NOTIFY_SOCKET first: were it inherited, the probe would print it before
  // the ARBOR_* variables the tree appends.
  auto c = spawn_with_env(ARBOR_BIN, {"run", cfg},
                          {"NOTIFY_SOCKET=" + sock.path, "ARBOR_HOME=" + home, "NO_COLOR=1"},
                          d.file("out"), d.file("err"));
  auto ready = sock.receive();
  INFO("daemon stderr:\n" << slurp(d.file("err")));
  REQUIRE(contains(ready, "READY=1"));
  // `arbor run` execs arbor-daemon: same pid.
  CHECK(contains(ready, "MAINPID=" + std::to_string(c.pid)));
  CHECK(contains(ready, "STATUS=2 apps, 2 instances"));

  // Ready means spawned: the app runs now, no waiting.
  auto st = arbor_json({"status"}, home);
  bool api_running = false;
  for (auto& i : st["instances"])
    if (i["id"] == "web.api#0") api_running = i["state"] == "running" && i["pid"].get<int>() > 0;
  CHECK(api_running);

  // The notify socket was the daemon's alone.
  auto env = probe_env(home);
  REQUIRE(contains(env, "ARBOR_INSTANCE=0"));
  CHECK(contains(env, "ARBOR_HOME=" + home)); // the rest of the environment is inherited
  CHECK_FALSE(contains(env, "NOTIFY_SOCKET"));

  REQUIRE(::kill(c.pid, SIGTERM) == 0);
  CHECK(sock.receive() == "STOPPING=1");
  int status = wait_exit(c, 30s);
  REQUIRE(status != -1);
  INFO("daemon stderr at exit:\n" << slurp(d.file("err")));
  INFO("killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(sock.receive(100ms).empty()); // nothing after STOPPING=1
}

TEST_CASE("notify: arbor-daemon daemon (the unit's ExecStart) notifies, `arbor down` is a stop") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << notify_config();
  fake_notify_socket sock(d.file("notify"));

  auto c = spawn_with_env(daemon_bin(), {"daemon", cfg},
                          {"NOTIFY_SOCKET=" + sock.path, "ARBOR_HOME=" + home},
                          d.file("out"), d.file("err"));
  auto ready = sock.receive();
  INFO("daemon stderr:\n" << slurp(d.file("err")));
  REQUIRE(contains(ready, "READY=1"));
  CHECK(contains(ready, "MAINPID=" + std::to_string(c.pid)));
  CHECK(pids_of(home)["web.api#0"] > 0);
  CHECK_FALSE(contains(probe_env(home), "NOTIFY_SOCKET"));

  auto down = run_arbor({"down"}, home);
  INFO(down.err);
  CHECK(down.rc == 0);
  CHECK(sock.receive() == "STOPPING=1");
  int status = wait_exit(c, 30s);
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("notify: a config with errors exits 2 without READY=1") {
  temp_dir d;
  auto cfg = d.file("bad.toml");
  std::ofstream(cfg) << "[x]\ncommand = \"a\"\nmax_restarts = \"lots\"\n";
  fake_notify_socket sock(d.file("notify"));
  auto c = spawn_with_env(daemon_bin(), {"daemon", cfg},
                          {"NOTIFY_SOCKET=" + sock.path, "ARBOR_HOME=" + d.file("home")},
                          d.file("out"), d.file("err"));
  int status = wait_exit(c, 30s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2); // RestartPreventExitStatus=2 in the unit
  CHECK(sock.receive(100ms).empty());
}

TEST_CASE("systemd: `arbor startup` prints a unit systemd-analyze verify accepts") {
  temp_dir d;
  auto home = d.file("home");
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[api]\nargs = " << child_args({"sleep"}) << "\nkill_timeout = \"60s\"\n";
  auto r = run_arbor({"startup", cfg}, home);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  auto& unit = r.out;
  CHECK(contains(unit, "\nType=notify\n"));
  CHECK(contains(unit, "\nNotifyAccess=main\n"));
  CHECK(contains(unit, "\nExecStart=" + daemon_bin() + " daemon " + cfg + "\n"));
  CHECK(contains(unit, "\nEnvironment=ARBOR_HOME=" + home + "\n"));
  CHECK(contains(unit, "\nKillMode=mixed\n"));
  CHECK(contains(unit, "\nTimeoutStopSec=90s\n"));
  CHECK(contains(unit, "\nWantedBy=multi-user.target\n"));

  auto file = d.file("arbor.service");
  std::ofstream(file) << unit;
  REQUIRE(::access("/usr/bin/systemd-analyze", X_OK) == 0); // Debian's `systemd` package
  auto c = spawn_with_env("/usr/bin/systemd-analyze", {"verify", "--man=no", file}, {},
                          d.file("verify.out"), d.file("verify.err"));
  int status = wait_exit(c, 60s);
  auto err = slurp(d.file("verify.err"));
  INFO("systemd-analyze verify:\n" << err);
  REQUIRE(status != -1);
  // It warns about unknown keys and bad values but still exits 0: clean is
  // exit 0 and silence.
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(err.empty());
}

TEST_CASE("systemd: `arbor startup --install --user` writes the unit under XDG_CONFIG_HOME") {
  temp_dir d;
  auto home = d.file("home");
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[api]\nargs = " << child_args({"sleep"}) << "\n";
  auto xdg = d.file("xdg");
  std::vector<std::string> env{"ARBOR_HOME=" + home, "HOME=" + d.file("user"),
                               "XDG_CONFIG_HOME=" + xdg, "NO_COLOR=1"};
  auto printed_p = spawn_with_env(ARBOR_BIN, {"startup", "--user", "--name", "web", cfg}, env,
                                  d.file("p.out"), d.file("p.err"));
  REQUIRE(wait_exit(printed_p, 30s) == 0);
  auto printed = slurp(d.file("p.out"));
  CHECK(contains(printed, "\nWantedBy=default.target\n"));
  CHECK(contains(printed, "\nTimeoutStopSec=35s\n")); // 5 s default kill_timeout + 30 s

  auto c = spawn_with_env(ARBOR_BIN, {"startup", "--install", "--user", "--name", "web", cfg}, env,
                          d.file("i.out"), d.file("i.err"));
  int status = wait_exit(c, 30s);
  INFO(slurp(d.file("i.err")));
  REQUIRE(status == 0);
  auto path = xdg + "/systemd/user/web.service";
  CHECK(slurp(path) == printed);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
         | std::filesystem::perms::group_read | std::filesystem::perms::others_read));
  auto out = slurp(d.file("i.out"));
  CHECK(contains(out, "wrote " + path + "\n"));
  CHECK(contains(out, "systemctl --user daemon-reload && systemctl --user enable --now web\n"));

  auto j = spawn_with_env(ARBOR_BIN, {"startup", "--json", "--user", "--name", "web", cfg}, env,
                          d.file("j.out"), d.file("j.err"));
  REQUIRE(wait_exit(j, 30s) == 0);
  auto json = nlohmann::json::parse(slurp(d.file("j.out")));
  CHECK(json["unit"] == printed);
  CHECK(json["path"] == path);
  CHECK(json["installed"] == false);
  CHECK(json["timeout_stop_sec"] == 35);
}

TEST_CASE("systemd: `arbor startup` for an unreadable config warns and uses 90 s, bad names fail") {
  temp_dir d;
  auto r = run_arbor({"startup", d.file("missing.toml")}, d.file("home"));
  CHECK(r.rc == 0);
  CHECK(contains(r.out, "\nTimeoutStopSec=90s\n"));
  CHECK(contains(r.err, "missing.toml: cannot read"));
  CHECK(contains(r.err, "warning"));
  auto bad = run_arbor({"startup", "--name", "../evil", d.file("missing.toml")}, d.file("home"));
  CHECK(bad.rc == 1);
  CHECK(contains(bad.err, "arbor: invalid unit name '../evil'"));
  CHECK(bad.out.empty());
}
