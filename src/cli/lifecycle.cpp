// Lifecycle verbs: `run` (the tree in the foreground: execs arbor-daemon),
// `up` (start the daemon if needed, or apply to the running one), `down`
// (stop every app, then the daemon), and `check`.

#include <csignal>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"
#include "config/loader.hpp"
#include "config/overlay.hpp"
#include "keeper/keeper_client.hpp"
#include "os/daemon_spawn.hpp"
#include "os/home_leftovers.hpp"
#include "os/home_lock.hpp"
#include "os/paths.hpp"
#include "os/spawn.hpp"
#include "proto/client.hpp"

extern char** environ;

namespace arbor::cli {

namespace {

[[noreturn]] void fail(int code) {
  throw CLI::RuntimeError(code);
}

std::optional<proto::response> ask(proto::client& c, const std::string& cmd,
                                   nlohmann::json args = nlohmann::json::object(),
                                   int timeout_ms = 30000) {
  std::string error;
  proto::request req;
  req.cmd = cmd;
  req.args = std::move(args);
  auto r = c.call(req, error, timeout_ms);
  if (!r) std::fprintf(stderr, "arbor: %s\n", error.c_str());
  return r;
}

/// Waits for a process that is not our child to exit (pidfd); false on timeout.
bool wait_pid_gone(int pid, int timeout_ms) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, timeout_ms);
  ::close(fd);
  return n > 0;
}

/// Prints the end of the daemon's log after it died at startup.
void print_log_tail(const std::string& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::fprintf(stderr, "arbor: the daemon exited at startup; the end of %s:\n", log.c_str());
  for (size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i)
    std::fprintf(stderr, "  %s\n", lines[i].c_str());
}

/// True if a daemon answers a ping on `c` (silent: a dying daemon's socket
/// may still take a connection, then reset it).
bool answers(proto::client& c) {
  std::string error;
  proto::request ping;
  ping.cmd = "ping";
  auto r = c.call(ping, error, 5000);
  return r && r->type == proto::response::kind::ok;
}

/// `apply` on `c`; never returns an error reply (it is printed, and fails).
nlohmann::json apply_on(proto::client& c, nlohmann::json args) {
  auto r = ask(c, "apply", std::move(args), 600000);
  if (!r) fail(exit_failed);
  if (r->type == proto::response::kind::error) {
    std::fprintf(stderr, "arbor: %s\n", r->error_message.c_str());
    for (auto& d : r->error.value("diagnostics", nlohmann::json::array()))
      std::fprintf(stderr, "%s\n", d.get<std::string>().c_str());
    fail(r->error_code == "config_invalid" ? exit_bad_config : exit_failed);
  }
  return r->result;
}

/// `up` with another file than the one applied would stop apps: asks on a
/// terminal, refuses otherwise (`--yes` goes ahead).
void confirm_removal(const nlohmann::json& plan, const std::string& file) {
  auto removed = plan.value("removed", std::vector<std::string>{});
  const auto applied = plan.value("applied_file", std::string{});
  if (removed.empty() || applied == file) return;
  std::string list;
  for (auto& r : removed) list += (list.empty() ? "" : ", ") + r;
  const std::string what = file + " is not the applied config (" + applied + ") and would stop "
                           + std::to_string(removed.size()) + " app"
                           + (removed.size() == 1 ? "" : "s") + ": " + list;
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO))
    fail(exit_failed, what + "; nothing changed (--yes applies it)");
  std::fputs(render_apply(plan, use_color(STDOUT_FILENO)).c_str(), stdout);
  std::printf("%s. Apply it? [y/N] ", what.c_str());
  std::fflush(stdout);
  char answer[16] = {};
  if (!std::fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
    fail(exit_failed, "nothing changed");
}

/// The file `up` runs: FILE as given; without one, arbor.toml here, or
/// when there is none and `arbor start -- CMD` added apps, no file (""):
/// those apps alone.
std::string file_to_up(const std::string& file, bool given) {
  if (given || ::access(file.c_str(), F_OK) == 0) return absolute_path(file);
  std::string text, error;
  if (config::read_overlay(arbor_home(), text, error) && !config::overlay_names(text).empty())
    return {};
  return absolute_path(file);
}

/// " (environment NAME)" for a selected environment, else "".
std::string env_note(const std::string& env) {
  return env.empty() ? std::string{} : " (environment " + env + ")";
}

/// Applies `file` to the daemon that answers on the socket, printing what
/// changed; false if none answers. Without `env` the daemon keeps its
/// environment for the file it runs, and selects none for another file.
bool apply_running(const std::string& file, const std::optional<std::string>& env, bool yes) {
  std::string error;
  auto c = proto::client::connect(socket_path(), error);
  if (!c || !answers(*c)) return false;
  if (file.empty()) { // nothing to apply: the apps `arbor start` added run already
    std::printf("arbor: daemon already running on %s\n", arbor_home().c_str());
    return true;
  }
  nlohmann::json args{{"file", file}};
  if (env) args["env"] = *env;
  if (!yes) {
    auto dry = args;
    dry["dry_run"] = true;
    confirm_removal(apply_on(*c, std::move(dry)), file);
  }
  auto result = apply_on(*c, args);
  std::printf("arbor: daemon already running; applied %s%s\n", file.c_str(),
              env_note(result.value("env", std::string{})).c_str());
  std::fputs(render_apply(result, use_color(STDOUT_FILENO)).c_str(), stdout);
  auto started = result.value("added", std::vector<std::string>{});
  for (auto& a : result.value("changed", std::vector<std::string>{})) started.push_back(a);
  if (!started.empty()) fail_on_unstarted(started);
  return true;
}

/// `down` with no daemon to ask: what of the home still lives (a daemon and
/// its keeper both gone, or the keeper given up on it) is stopped here, so
/// that after `down` nothing of the home runs. Not while a daemon holds the
/// lock: it is starting or stopping and owns its processes.
void down_without_daemon(const std::string& home) {
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0) {
    std::printf("arbor: no daemon running on %s\n", home.c_str());
    return;
  }
  // What it finds there (its cgroup record) decides what is killed: only in
  // a home that is ours.
  if (auto refused = check_home(home); !refused.empty()) {
    std::fprintf(stderr, "arbor: %s\n", refused.c_str());
    fail(exit_failed);
  }
  if (os::home_locked(home)) {
    std::fprintf(stderr, "arbor: a daemon holds %s/arbor.lock but does not answer (starting or "
                 "stopping): try `arbor down` again in a moment\n", home.c_str());
    fail(exit_failed);
  }
  auto left = os::home_leftovers(home);
  if (left.empty()) {
    std::printf("arbor: no daemon running on %s\n", home.c_str());
    return;
  }
  std::string pids;
  for (auto& p : left) pids += (pids.empty() ? "" : " ") + std::to_string(p.pid);
  std::printf("arbor: no daemon runs on %s, but %zu of its processes still do (pids %s): "
              "SIGTERM, then SIGKILL after 5 s\n", home.c_str(), left.size(), pids.c_str());
  std::fflush(stdout);
  os::terminate(std::move(left), SIGTERM, std::chrono::seconds(5), true);
  std::printf("arbor: stopped what was left of %s\n", home.c_str());
}

/// Has the keeper start the daemon as its child, so that every daemon
/// descends from the keeper (a child subreaper): if one dies, its apps are
/// the keeper's, reaped by it with their exit statuses kept for the next
/// daemon. Without a keeper (it cannot be started) the daemon starts here,
/// and a dead daemon's apps go to init. 0 with `refused`: the keeper said
/// another daemon holds the lock.
pid_t spawn_daemon_process(const std::string& home, const std::string& bin,
                           const std::vector<std::string>& argv, const std::string& log,
                           bool& refused) {
  keeper::keeper_client k;
  std::string error;
  if (k.connect_or_spawn(home, os::beside_exe("arbor-keeper"), error)) {
    std::vector<std::string> full = argv;
    full[0] = bin;
    pid_t pid = k.start_daemon(full, os::current_environment(), error);
    if (pid > 0) return pid;
    refused = os::home_locked(home);
    if (refused) return 0;
  }
  std::fprintf(stderr, "arbor: warning: the keeper cannot start the daemon (%s): starting it "
               "directly; if it dies, its apps are re-adopted but their exit statuses are lost\n",
               error.c_str());
  int err = 0;
  pid_t pid = os::spawn_daemon(bin, argv, nullptr, log, err);
  if (pid == 0) {
    std::fprintf(stderr, "arbor: cannot start %s: %s\n", bin.c_str(), std::strerror(err));
    fail(exit_failed);
  }
  return pid;
}

/// The lock held but no answer: a daemon is dying (its socket refuses or
/// resets) or starting (the keeper replacing a dead one). Waits for either:
/// true once a daemon took the file.
bool apply_when_up(const std::string& file, const std::optional<std::string>& env, bool yes) {
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
       os::home_locked(arbor_home()) && std::chrono::steady_clock::now() < until;) {
    if (apply_running(file, env, yes)) return true;
    ::poll(nullptr, 0, 20);
  }
  return false;
}

} // namespace

int start_daemon(const std::string& file, const std::string& env, const std::string& home) {
  // Before writing daemon.log there (the daemon checks again: `arbor run`).
  if (auto refused = check_home(home); !refused.empty()) {
    std::fprintf(stderr, "arbor: %s\n", refused.c_str());
    fail(exit_failed);
  }
  auto log = home + "/daemon.log";
  auto bin = daemon_binary();
  std::vector<std::string> argv{"arbor-daemon", "daemon", file}; // "": the overlay alone
  if (!env.empty()) argv.insert(argv.end(), {"--env", env});
  bool refused = false;
  pid_t pid = spawn_daemon_process(home, bin, argv, log, refused);
  if (refused) return 0; // another daemon came up at the same time
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string error;
    if (auto c = proto::client::connect(socket_path(), error)) {
      proto::request ping;
      ping.cmd = "ping";
      if (auto r = c->call(ping, error, 5000); r && r->type == proto::response::kind::ok) {
        if (pfd >= 0) ::close(pfd);
        return r->result.value("pid", 0) == pid ? pid : 0;
      }
    }
    // Not answering yet. Did it die (a bad config, a held lock)? Else look again.
    pollfd p{pfd, POLLIN, 0};
    if (pfd < 0) {
      ::poll(nullptr, 0, 20); // ours is gone: another daemon is on its way up
    } else if (::poll(&p, 1, 20) > 0) {
      ::waitpid(pid, nullptr, 0);
      ::close(pfd);
      pfd = -1;
      if (!os::home_locked(home)) {
        print_log_tail(log);
        fail(exit_failed);
      }
    }
  }
  std::fprintf(stderr, "arbor: the daemon (pid %d) did not answer within 15 s; see %s\n", pid,
               log.c_str());
  fail(exit_failed);
}

void add_lifecycle_verbs(CLI::App& app) {
  auto run_opts = std::make_shared<run_options>();
  auto* run = app.add_subcommand("run", "Run the tree in the foreground until SIGTERM/SIGINT");
  run->add_option("file", run_opts->file, "Config file")->capture_default_str();
  run->add_option("--log-dir", run_opts->log_dir,
                  "Where apps' stdout/stderr go (default: $ARBOR_HOME/logs)");
  run->add_option("--env", run_opts->env, "Select each app's env_NAME table over its env");
  run->add_flag("--no-attach", run_opts->no_attach,
                "Apps' output only to the log files (default: also to stdout/stderr, "
                "each line prefixed 'app#i | ')");
  run->callback([run_opts] {
    // The tree lives in arbor-daemon: become it (same pid, signals, exit code).
    auto bin = daemon_binary();
    std::vector<std::string> args{"arbor-daemon", "run", run_opts->file};
    if (!run_opts->log_dir.empty()) {
      args.push_back("--log-dir");
      args.push_back(run_opts->log_dir);
    }
    if (run_opts->no_attach) args.push_back("--no-attach");
    if (!run_opts->env.empty()) args.insert(args.end(), {"--env", run_opts->env});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    std::fprintf(stderr, "arbor: cannot run %s: %s\n", bin.c_str(), std::strerror(errno));
    fail(exit_failed);
  });

  auto up_file = std::make_shared<std::string>("arbor.toml");
  auto up_yes = std::make_shared<bool>(false);
  auto up_env = std::make_shared<std::string>();
  auto* up = app.add_subcommand("up", "Start the daemon if none runs, and apply FILE");
  auto* up_file_opt =
    up->add_option("file", *up_file,
                   "Config file (without one and no arbor.toml here: the apps `arbor start -- "
                   "CMD` added, alone)")
      ->capture_default_str();
  up->add_flag("--yes,-y", *up_yes,
               "Apply a file other than the running one even if it stops apps (without it: "
               "asked on a terminal, refused otherwise)");
  auto* up_env_opt = up->add_option(
    "--env", *up_env,
    "Select each app's env_NAME table over its env (default on a running daemon: its "
    "environment for the same file, none for another; --env '' selects none)");
  up->callback([up_file, up_file_opt, up_yes, up_env, up_env_opt] {
    auto file = file_to_up(*up_file, up_file_opt->count() > 0);
    auto res = config::load_with_overlay(file, {*up_env}, arbor_home());
    if (report_errors(res, file)) fail(exit_bad_config);
    std::optional<std::string> env;
    if (up_env_opt->count() > 0) env = *up_env;
    if (apply_running(file, env, *up_yes)) return;
    if (apply_when_up(file, env, *up_yes)) return;
    if (auto refused = fd_refusal_here(*res.tree); !refused.empty()) {
      std::fprintf(stderr, "arbor: %s; nothing started\n", refused.c_str());
      fail(exit_bad_config);
    }
    int pid = start_daemon(file, *up_env, arbor_home());
    if (pid == 0) { // another daemon came up at the same time: it gets the file
      if (apply_running(file, env, *up_yes) || apply_when_up(file, env, *up_yes)) return;
      std::fprintf(stderr, "arbor: another daemon took %s but stopped answering\n",
                   arbor_home().c_str());
      fail(exit_failed);
    }
    size_t instances = 0;
    auto apps = count_apps(res.tree->root, instances);
    std::printf("arbor: daemon started (pid %d) with %s%s: %zu app%s, %zu instance%s\n", pid,
                file.empty() ? "the apps `arbor start` added" : file.c_str(), env_note(*up_env).c_str(), apps, apps == 1 ? "" : "s", instances,
                instances == 1 ? "" : "s");
    fail_on_unstarted({});
  });

  auto* down = app.add_subcommand("down", "Stop every app gracefully, then the daemon");
  down->callback([] {
    std::string error;
    auto c = proto::client::connect(socket_path(), error);
    if (!c) return down_without_daemon(arbor_home());
    auto ping = ask(*c, "ping");
    if (!ping || ping->type != proto::response::kind::ok) fail(exit_failed);
    int pid = ping->result.value("pid", 0);
    auto r = ask(*c, "shutdown");
    if (!r || r->type != proto::response::kind::ok) fail(exit_failed);
    if (pid > 0 && !wait_pid_gone(pid, 600000)) {
      std::fprintf(stderr, "arbor: the daemon (pid %d) is still stopping after 10 minutes\n", pid);
      fail(exit_failed);
    }
    std::printf("arbor: stopped every app and the daemon (pid %d)\n", pid);
  });

  auto check_file = std::make_shared<std::string>();
  auto check_env = std::make_shared<std::string>();
  auto* chk = app.add_subcommand("check", "Validate a config file and print its tree");
  chk->add_option("file", *check_file, "Config file")->required();
  chk->add_option("--env", *check_env, "Check with each app's env_NAME table over its env");
  chk->callback([check_file, check_env] {
    if (int rc = cli::check(*check_file, *check_env); rc != 0) fail(rc);
  });
}

} // namespace arbor::cli
