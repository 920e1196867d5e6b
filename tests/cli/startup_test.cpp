// `arbor startup`'s unit: its text (a pure function of the options), the stop
// timeout a config implies, names and paths, and `systemd-analyze verify` on
// rendered units whose ExecStart points at real files.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/systemd_unit.hpp"
#include "config/loader.hpp"

extern char** environ;

using namespace arbor::cli;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

unit_options sample() {
  unit_options o;
  o.daemon = "/usr/local/bin/arbor-daemon";
  o.config_file = "/etc/arbor/arbor.toml";
  o.home = "/var/lib/arbor";
  o.stop_timeout = 90s;
  return o;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

arbor::tree_spec load(const std::string& toml) {
  auto res = arbor::config::load_string(toml, "t.toml", "/tmp");
  INFO((res.errors.empty() ? "" : res.errors.front().to_string()));
  REQUIRE(res.ok());
  return *res.tree;
}

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/arbor-startup-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

struct tool_result {
  int rc = -1;   ///< exit code; -1 if it timed out or died of a signal
  std::string out, err;
};

/// Runs `argv` with our environment plus `extra_env` ("K=V"), output to files
/// in `dir`; waits at most 60 s.
tool_result run_tool(std::vector<std::string> argv_s, const std::string& dir,
                     const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> env = extra_env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    bool overridden = false;
    for (auto& x : extra_env)
      if (kv.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0) overridden = true;
    if (!overridden) env.push_back(kv);
  }
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  auto out = dir + "/tool.out", err = dir + "/tool.err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{pfd, POLLIN, 0};
  bool done = ::poll(&p, 1, 60000) > 0;
  if (!done) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pfd);
  tool_result r;
  r.rc = done && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

const char* const analyze = "/usr/bin/systemd-analyze";

/// `systemd-analyze verify` of `unit_text` saved as <dir>/<name>.service.
/// systemd-analyze exits 0 even for unknown keys or values it ignores (it
/// only warns), so a clean verify is exit 0 AND nothing on stderr.
tool_result verify(const std::string& dir, const std::string& name, const std::string& unit_text,
                   bool user_unit) {
  auto file = dir + "/" + name + ".service";
  write(file, unit_text);
  std::vector<std::string> argv{analyze, "verify", "--man=no"};
  std::vector<std::string> env;
  if (user_unit) {
    // The user manager needs a runtime dir; a login session would provide one.
    auto rt = dir + "/runtime";
    std::filesystem::create_directories(rt);
    std::filesystem::permissions(rt, std::filesystem::perms::owner_all);
    argv.push_back("--user");
    env.push_back("XDG_RUNTIME_DIR=" + rt);
  }
  argv.push_back(file);
  return run_tool(argv, dir, env);
}

/// True when systemd-analyze failed for a reason of the environment (it
/// starts a private manager, which needs a runtime dir and more), not the unit.
bool environment_failure(const tool_result& r) {
  return r.rc != 0
         && (r.err.find("Failed to initialize manager") != std::string::npos
             || r.err.find("Failed to lookup RuntimeDirectory") != std::string::npos
             || r.err.find("Failed to allocate manager") != std::string::npos);
}

/// Fails the test unless systemd-analyze ran, or failed for a reason that is
/// the environment's and not the unit's (then it warns); true if it ran.
bool analyze_ran(const tool_result& r, const std::string& unit_file) {
  if (r.rc == 0) return true;
  INFO("systemd-analyze exited " << r.rc << ":\n" << r.err);
  REQUIRE(environment_failure(r));
  CHECK(r.err.find(unit_file) == std::string::npos);
  WARN("systemd-analyze verify cannot run here (environment, not the unit):\n" << r.err);
  return false;
}

} // namespace

TEST_CASE("render_unit: the whole unit for a system service") {
  auto o = sample();
  o.stop_timeout = 95s;
  CHECK(render_unit(o) ==
        "# arbor.service, written by `arbor startup` for /etc/arbor/arbor.toml\n"
        "[Unit]\n"
        "Description=arbor process manager (/etc/arbor/arbor.toml)\n"
        "After=network.target\n"
        "\n"
        "[Service]\n"
        "Type=notify\n"
        "NotifyAccess=main\n"
        "ExecStart=/usr/local/bin/arbor-daemon daemon /etc/arbor/arbor.toml\n"
        "Environment=ARBOR_HOME=/var/lib/arbor\n"
        "WorkingDirectory=/\n"
        "KillMode=mixed\n"
        "Delegate=yes\n"
        "KillSignal=SIGTERM\n"
        "TimeoutStopSec=95s\n"
        "Restart=on-failure\n"
        "RestartSec=1\n"
        "RestartPreventExitStatus=2\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n");
}

TEST_CASE("render_unit: an environment selected for the config is in ExecStart") {
  auto o = sample();
  o.env = "production";
  CHECK(has_line(render_unit(o), "ExecStart=/usr/local/bin/arbor-daemon daemon "
                                 "/etc/arbor/arbor.toml --env production"));
}

TEST_CASE("render_unit: a user unit is wanted by default.target, has no User= or network.target") {
  auto o = sample();
  o.user_unit = true;
  o.run_as = "alice";
  auto u = render_unit(o);
  CHECK(has_line(u, "WantedBy=default.target"));
  CHECK_FALSE(has_line(u, "WantedBy=multi-user.target"));
  CHECK(u.find("User=") == std::string::npos);
  CHECK(u.find("network.target") == std::string::npos);
  CHECK(has_line(u, "Type=notify"));
  CHECK(has_line(u, "KillMode=mixed"));
}

TEST_CASE("render_unit: a system unit for a non-root user runs as that user") {
  auto o = sample();
  o.run_as = "alice";
  CHECK(has_line(render_unit(o), "User=alice"));
}

TEST_CASE("render_unit: paths with spaces, quotes, '%' and '$' are quoted and escaped") {
  auto o = sample();
  o.daemon = "/opt/my arbor/bin/arbor-daemon";
  o.config_file = "/srv/100%/it's \"here\"/$HOME.toml";
  o.home = "/var/lib/a b%";
  auto u = render_unit(o);
  CHECK(has_line(u, "ExecStart=\"/opt/my arbor/bin/arbor-daemon\" daemon "
                    "\"/srv/100%%/it's \\\"here\\\"/$$HOME.toml\""));
  o.daemon = "/opt/$x/arbor-daemon"; // the binary's path is not subject to $ substitution
  CHECK_THAT(render_unit(o), Contains("ExecStart=/opt/$x/arbor-daemon daemon"));
  CHECK(has_line(u, "Environment=\"ARBOR_HOME=/var/lib/a b%%\""));
  CHECK(has_line(u, "Description=arbor process manager (/srv/100%%/it's \"here\"/$HOME.toml)"));
}

TEST_CASE("render_unit: a newline in a path cannot start a new setting") {
  auto o = sample();
  o.config_file = "/etc/x\nExecStartPre=/bin/false";
  auto u = render_unit(o);
  CHECK_FALSE(has_line(u, "ExecStartPre=/bin/false"));
  CHECK(u.find("\nExecStartPre") == std::string::npos);
  CHECK_THAT(u, Contains("daemon \"/etc/x\\nExecStartPre=/bin/false\""));
}

TEST_CASE("stop_timeout_for: the apps' kill_timeouts summed (they stop one by one), plus 30 s") {
  CHECK(stop_timeout_for(load("[web]\ncommand = \"sleep 1\"\nkill_timeout = \"60s\"\n")) == 90s);
  CHECK(stop_timeout_for(load("[a]\ncommand = \"x\"\n"
                              "[g.b]\ncommand = \"x\"\nkill_timeout = \"1.5m\"\ninstances = 4\n"
                              "[g.c]\ncommand = \"x\"\nkill_timeout = 250\n")) ==
        // 5 s (default) + 90 s (instances stop together) + 0.25 s, + 30 s, rounded up
        126s);
  CHECK(stop_timeout_for(arbor::tree_spec{}) == 30s);
  CHECK(default_stop_timeout == 90s);
}

TEST_CASE("render_unit: TimeoutStopSec from a config with kill_timeout = \"60s\"") {
  auto o = sample();
  o.stop_timeout = stop_timeout_for(load("[api]\ncommand = \"sleep 1\"\nkill_timeout = \"60s\"\n"));
  CHECK(has_line(render_unit(o), "TimeoutStopSec=90s"));
}

TEST_CASE("valid_unit_name: systemd's unit name characters, no templates, no paths") {
  for (const char* ok : {"arbor", "arbor-web", "arbor_2", "my.arbor", "a:b"})
    CHECK(valid_unit_name(ok));
  for (const char* bad : {"", "a/b", "a b", "arbor@", "arbor@x", ".hidden", "-x", "ä", "a\nb"})
    CHECK_FALSE(valid_unit_name(bad));
  CHECK_FALSE(valid_unit_name(std::string(201, 'a')));
}

TEST_CASE("unit_install_path and enable_command: system and user") {
  CHECK(unit_install_path("arbor", false, "") == "/etc/systemd/system/arbor.service");
  CHECK(unit_install_path("web", true, "/home/al/.config") ==
        "/home/al/.config/systemd/user/web.service");
  CHECK(enable_command("arbor", false) == "systemctl daemon-reload && systemctl enable --now arbor");
  CHECK(enable_command("web", true) ==
        "systemctl --user daemon-reload && systemctl --user enable --now web");
}

TEST_CASE("systemd-analyze verify: the rendered units (system and user) load cleanly") {
  REQUIRE(::access(analyze, X_OK) == 0); // Debian's `systemd` package ships it
  temp_dir dir;
  auto config = dir.path + "/arbor.toml";
  write(config, "[api]\ncommand = \"sleep 100\"\nkill_timeout = \"60s\"\n");
  unit_options o;
  o.daemon = ARBOR_TEST_CHILD; // a real executable: verify checks ExecStart's binary
  o.config_file = config;
  o.home = dir.path + "/home";
  o.stop_timeout = stop_timeout_for(load(slurp(config)));
  for (bool user : {false, true}) {
    o.user_unit = user;
    INFO((user ? "user unit" : "system unit"));
    auto r = verify(dir.path, "arbor", render_unit(o), user);
    if (!analyze_ran(r, dir.path + "/arbor.service")) continue;
    INFO("stderr:\n" << r.err);
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
  }
}

TEST_CASE("systemd-analyze verify: quoted and escaped paths resolve to the real files") {
  REQUIRE(::access(analyze, X_OK) == 0);
  temp_dir dir;
  // The daemon in a directory whose name needs quoting and escaping: verify
  // only passes if systemd unquotes ExecStart back to this exact path.
  auto odd = dir.path + "/my arbor 100% $HOME";
  std::filesystem::create_directories(odd);
  std::filesystem::copy_file(ARBOR_TEST_CHILD, odd + "/arbor-daemon");
  std::filesystem::permissions(odd + "/arbor-daemon", std::filesystem::perms::owner_all);
  unit_options o;
  o.daemon = odd + "/arbor-daemon";
  o.config_file = odd + "/arbor.toml";
  o.home = odd + "/home";
  auto r = verify(dir.path, "arbor-odd", render_unit(o), false);
  if (analyze_ran(r, dir.path + "/arbor-odd.service")) {
    INFO("stderr:\n" << r.err);
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
  }
}

TEST_CASE("systemd-analyze verify: it does check the unit here (a missing daemon fails)") {
  // The control for the two cases above: a clean verify means something.
  REQUIRE(::access(analyze, X_OK) == 0);
  temp_dir dir;
  auto o = sample();
  o.daemon = dir.path + "/no-such-arbor-daemon";
  auto r = verify(dir.path, "arbor", render_unit(o), false);
  if (environment_failure(r)) {
    WARN("systemd-analyze verify cannot run here (environment, not the unit):\n" << r.err);
    return;
  }
  CHECK(r.rc != 0);
  CHECK_THAT(r.err, Contains(o.daemon + " is not executable"));
}

TEST_CASE("render_unit: the PATH of whoever ran `arbor startup` goes into the unit") {
  auto o = sample();
  o.path = "/home/al/.pyenv/shims:/home/al/.nvm/versions/node/v20/bin:/usr/bin:/bin";
  auto u = render_unit(o);
  CHECK(has_line(u, "Environment=PATH=" + o.path));
  CHECK(u.find("Environment=PATH") > u.find("Environment=ARBOR_HOME"));
  o.path = "/opt/my tools/bin:/usr/bin"; // a space: quoted like ExecStart's words
  CHECK(has_line(render_unit(o), "Environment=\"PATH=/opt/my tools/bin:/usr/bin\""));
  o.path.clear(); // no PATH: systemd's default, no line
  CHECK(render_unit(o).find("PATH") == std::string::npos);
}

TEST_CASE("systemd-analyze verify: a unit with the user's PATH loads cleanly") {
  REQUIRE(::access(analyze, X_OK) == 0);
  temp_dir dir;
  unit_options o;
  o.daemon = ARBOR_TEST_CHILD;
  o.config_file = dir.path + "/arbor.toml";
  o.home = dir.path + "/home";
  o.path = dir.path + "/my shims 100%:/usr/local/bin:/usr/bin:/bin";
  auto r = verify(dir.path, "arbor-path", render_unit(o), false);
  if (analyze_ran(r, dir.path + "/arbor-path.service")) {
    INFO("stderr:\n" << r.err);
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
  }
}
