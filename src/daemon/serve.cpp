// The daemon binary's work: the tree with its control socket until a stop
// signal or `shutdown` (`arbor run` in the foreground, or the daemon).

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <fmt/core.h>


#include "cli/commands.hpp"
#include "config/fd_budget.hpp"
#include "config/loader.hpp"
#include "config/overlay.hpp"
#include "config/units.hpp"
#include "daemon/daemon_args.hpp"
#include "daemon_host.hpp"
#include "daemon_log.hpp"
#include "log.hpp"
#include "os/crash_report.hpp"
#include "os/fd_limit.hpp"
#include "os/heap.hpp"
#include "os/sd_notify.hpp"
#include "os/signals.hpp"
#include "os/paths.hpp"

namespace arbor::cli {

namespace {

void setup_logging(bool color) {
  detail::log_color(color); // lines: "2026-11-21T21:42:02.123 info  ..."
}

/// Holds <home>/arbor.lock for the process's lifetime: one arbor per home.
int lock_home(const std::string& home, std::string& error) {
  error = check_home(home);
  if (!error.empty()) return -1;
  auto path = home + "/arbor.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string pid;
    std::ifstream(home + "/arbor.pid") >> pid;
    error = "another arbor is already running on " + home
            + (pid.empty() ? std::string{} : " (pid " + pid + ")");
    ::close(fd);
    return -1;
  }
  return fd;
}

/// <home>/arbor.pid, never through a symlink.
void write_pid_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    detail::log_warn("supervisor=root event=pid_file reason=\"{}: {}\"", path, std::strerror(errno));
    return;
  }
  auto text = std::to_string(::getpid()) + "\n";
  [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

/// Starts the tree and serves until a signal, `shutdown`, or (`arbor run`)
/// the root giving up; the exit code so far. `finish_down`: starts nothing
/// (the stop that follows ends what a dead daemon left).
int run_until_stopped(detail::daemon_host& host, int sfd, const std::string& notify_socket,
                      bool finish_down, size_t apps, size_t instances) {
  if (finish_down) {
    detail::log_info("supervisor=root event=shutdown reason=\"finishing the stop of a daemon that "
                     "died while stopping: what it left is stopped, nothing is started\"");
    return exit_ok;
  }
  host.start();
  // Up once the first start has been applied: a status query queues
  // behind the start messages, so every instance has been spawned by now.
  (void) host.tree().status();
  os::sd_notify(notify_socket, fmt::format("READY=1\nMAINPID={}\nSTATUS={} apps, {} instances",
                                           ::getpid(), apps, instances));
  int sig = host.wait(sfd);
  os::sd_notify(notify_socket, "STOPPING=1");
  if (sig < 0) {
    // The tree gave up: a container runtime should restart us.
    detail::log_critical("supervisor=root event=gave_up reason=\"the root supervisor exceeded "
                         "its intensity; exiting non-zero\"");
    return exit_failed;
  }
  detail::log_info("supervisor=root event=shutdown reason={} (stopping in reverse start order)",
                   sig ? config::signal_name(sig) : std::string{"shutdown requested"});
  return exit_ok;
}

} // namespace

int serve(const std::string& file_arg, const std::string& env, const std::string& log_dir,
          bool foreground, bool attach, bool finish_down) {
  // First, before any thread exists: every thread inherits the mask.
  auto blocked = os::block_control_signals();
  os::install_crash_report();
  os::use_one_arena();
  // systemd's channel is ours, not the apps': out of the environment before
  // the tree copies it (and before any thread exists).
  auto notify_socket = os::take_notify_socket();
  setup_logging(foreground && use_color(STDERR_FILENO));
  // Every instance costs the daemon a few descriptors (config/fd_budget.hpp).
  if (auto err = os::raise_fd_limit(); !err.empty())
    detail::log_warn("supervisor=root event=rlimit reason=\"cannot raise RLIMIT_NOFILE: {}\"", err);
  // "" (`arbor start -- CMD` with no daemon): no file, the overlay's apps alone.
  auto file = file_arg.empty() ? std::string{} : absolute_path(file_arg);
  auto home = arbor_home();
  auto res = config::load_with_overlay(file, {env}, home);
  if (report_errors(res, file)) return exit_bad_config;
  auto too_many = config::fd_refusal(config::descriptors_needed(res.tree->root),
                                     os::fd_soft_limit(), "the daemon's limit");
  if (!too_many.empty()) {
    fmt::print(stderr, "arbor: {}\n", too_many);
    return exit_bad_config;
  }
  std::string error;
  int lock = lock_home(home, error);
  if (lock < 0) {
    fmt::print(stderr, "arbor: {}\n", error);
    return exit_failed;
  }
  // Started by `arbor up` (output to <home>/daemon.log): rotate it.
  if (!foreground) detail::rotate_daemon_log(home + "/daemon.log");
  write_pid_file(home + "/arbor.pid");
  int sfd = os::open_signalfd(blocked);
  if (sfd < 0) {
    fmt::print(stderr, "arbor: signalfd: {}\n", std::strerror(errno));
    return exit_failed;
  }
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", size_t{2});
  int rc = exit_ok;
  {
    caf::actor_system sys{cfg};
    try {
      size_t instances = 0;
      auto apps = count_apps(res.tree->root, instances);
      // daemon_command, as `arbor up` starts it (main.cpp): the keeper
      // replaces a daemon that dies, never the foreground `arbor run`.
      detail::host_options opts{home, file, env, log_dir.empty() ? home + "/logs" : log_dir, true,
                                foreground, {}};
      if (!foreground) opts.daemon_command = cli::daemon_command_for(file, env, finish_down);
      opts.echo_output = foreground && attach;
      opts.echo_color = opts.echo_output && use_color(STDOUT_FILENO);
      detail::daemon_host host{sys, std::move(*res.tree), opts};
      detail::log_info("supervisor=root event=starting config={}{} apps={} instances={} home={} pid={}",
                       file, env.empty() ? "" : " env=" + env, apps, instances, home, ::getpid());
      rc = run_until_stopped(host, sfd, notify_socket, finish_down, apps, instances);
      // From here on, a daemon that dies is replaced by one that finishes
      // this stop, not by one that starts everything again (a finishing
      // daemon gave that command from its start).
      if (!foreground && !finish_down)
        host.tree().set_daemon_command(cli::daemon_command_for(file, env, true));
      if (!host.stop(sfd)) {
        detail::log_error("supervisor=root event=shutdown reason=\"stop timed out\"");
        rc = exit_failed;
      } else {
        detail::log_info("supervisor=root event=stopped reason=\"all processes stopped\"");
      }
    } catch (const std::exception& e) {
      detail::log_critical("supervisor=root event=startup_failed reason=\"{}\"", e.what());
      rc = exit_failed;
    }
  }
  ::unlink((home + "/arbor.pid").c_str());
  ::close(sfd);
  ::close(lock);
  return rc;
}

} // namespace arbor::cli
