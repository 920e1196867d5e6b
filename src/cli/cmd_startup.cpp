// `arbor startup`: the systemd unit that runs the daemon as Type=notify.
// Prints it, or with --install writes it and says what to run next (arbor
// never runs systemctl itself).

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/systemd_unit.hpp"
#include "config/loader.hpp"

namespace arbor::cli {

namespace {

struct startup_options {
  std::string file = "arbor.toml";
  std::string name = "arbor";
  std::string env;
  bool install = false;
  bool user = false;
  bool json = false;
};

std::string user_name() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw && pw->pw_name ? pw->pw_name : std::to_string(::geteuid());
}

/// $XDG_CONFIG_HOME if absolute, else $HOME/.config (systemd's user search path).
std::string config_home() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && x[0] == '/') return x;
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string{home} + "/.config";
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string{pw && pw->pw_dir ? pw->pw_dir : "/root"} + "/.config";
}

/// TimeoutStopSec from the config's kill_timeouts; systemd's default (with a
/// warning) when it does not load: the unit is still right, the timeout a guess.
std::chrono::seconds stop_timeout(const std::string& file, const std::string& env) {
  auto res = config::load_file(file, {env});
  if (res.ok()) return stop_timeout_for(*res.tree);
  for (auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  std::fprintf(stderr,
               "arbor: warning: %s did not load; TimeoutStopSec=%llds (systemd's default). "
               "Fix it before starting the unit.\n",
               file.c_str(), static_cast<long long>(default_stop_timeout.count()));
  return default_stop_timeout;
}

/// Writes `text` to `path` through a temporary file and a rename (a reader
/// never sees half a unit); creates the directory. "" or the error.
std::string write_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return "cannot create " + fs::path(path).parent_path().string() + ": " + ec.message();
  auto tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
    out << text;
    out.flush();
    if (!out) {
      ::unlink(tmp.c_str());
      return "cannot write " + tmp + ": " + std::strerror(errno);
    }
  }
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read
                         | fs::perms::others_read, ec);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return error;
  }
  return {};
}

void run_startup(const startup_options& opts) {
  auto name = opts.name;
  if (name.size() > 8 && name.compare(name.size() - 8, 8, ".service") == 0)
    name.resize(name.size() - 8);
  if (!valid_unit_name(name))
    fail(exit_failed, "invalid unit name '" + opts.name
                        + "': use letters, digits, ':', '_', '.', '-' (no leading '.' or '-')");
  unit_options u;
  u.name = name;
  u.daemon = daemon_binary();
  if (u.daemon.empty() || u.daemon[0] != '/' || ::access(u.daemon.c_str(), X_OK) != 0)
    fail(exit_failed, "cannot find an executable arbor-daemon next to arbor (" + u.daemon + ")");
  u.config_file = absolute_path(opts.file);
  if (!opts.env.empty() && !config::is_env_name(opts.env))
    fail(exit_failed, "invalid environment name '" + opts.env + "': letters, digits, '_', '-'");
  u.env = opts.env;
  u.home = arbor_home();
  if (const char* path = std::getenv("PATH")) u.path = path;
  u.user_unit = opts.user;
  // A system unit started by a user other than root runs as that user, so
  // the socket in their ARBOR_HOME stays theirs and `arbor status` works.
  if (!opts.user && ::geteuid() != 0) u.run_as = user_name();
  u.stop_timeout = stop_timeout(u.config_file, u.env);
  auto text = render_unit(u);
  auto path = unit_install_path(name, opts.user, opts.user ? config_home() : std::string{});
  auto next = enable_command(name, opts.user);

  if (opts.install) {
    if (auto error = write_file(path, text); !error.empty())
      fail(exit_failed, error + (opts.user ? "" : " (run it as root, or use --user)"));
  }
  if (opts.json) {
    print_json({{"name", name},
                {"user", opts.user},
                {"path", path},
                {"installed", opts.install},
                {"next", next},
                {"timeout_stop_sec", u.stop_timeout.count()},
                {"unit", text}});
    return;
  }
  if (!opts.install) {
    std::fputs(text.c_str(), stdout);
    return;
  }
  std::printf("arbor: wrote %s\nnext: %s\n", path.c_str(), next.c_str());
  if (opts.user)
    std::printf("(to keep it running while you are logged out: loginctl enable-linger %s)\n",
                user_name().c_str());
}

} // namespace

void add_system_verbs(CLI::App& app) {
  auto opts = std::make_shared<startup_options>();
  auto* cmd = app.add_subcommand(
    "startup", "Print (or --install) a systemd unit that runs the daemon at boot");
  cmd->add_option("file", opts->file, "Config file")->capture_default_str();
  cmd->add_flag("--install", opts->install,
                "Write /etc/systemd/system/NAME.service (with --user: "
                "~/.config/systemd/user/NAME.service) instead of printing it");
  cmd->add_flag("--user", opts->user, "A unit for `systemctl --user` (WantedBy=default.target)");
  cmd->add_option("--name", opts->name, "Unit name")->capture_default_str();
  cmd->add_option("--env", opts->env, "The daemon selects each app's env_NAME table over its env");
  cmd->add_flag("--json", opts->json,
                "Print {name, user, path, installed, next, timeout_stop_sec, unit} as JSON");
  cmd->callback([opts] { run_startup(*opts); });
}

} // namespace arbor::cli
