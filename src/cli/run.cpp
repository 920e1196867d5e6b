#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <atomic>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <fmt/core.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "arbor/tree.hpp"
#include "cli/commands.hpp"
#include "config/loader.hpp"
#include "config/units.hpp"
#include "os/signals.hpp"

namespace arbor::cli {

std::string arbor_home() {
  if (const char* h = std::getenv("ARBOR_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string{home && *home ? home : "/root"} + "/.arbor";
}

bool use_color(int fd) {
  const char* no = std::getenv("NO_COLOR");
  return ::isatty(fd) && !(no && *no);
}

namespace {

void setup_logging() {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
    use_color(STDERR_FILENO) ? spdlog::color_mode::automatic : spdlog::color_mode::never);
  auto logger = std::make_shared<spdlog::logger>("arbor", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_default_logger(logger);
}

size_t count_apps(const group_spec& g, size_t& instances) {
  size_t n = 0;
  for (auto& c : g.children) {
    if (c.type == node_spec::kind::group) {
      n += count_apps(c.group, instances);
    } else {
      ++n;
      instances += c.app.instances;
    }
  }
  return n;
}

/// Stops the tree on another thread; a second SIGTERM/SIGINT meanwhile
/// SIGKILLs every process group instead of waiting out kill_timeouts.
bool stop_tree(supervision_tree& tree, int sfd) {
  int efd = ::eventfd(0, EFD_CLOEXEC);
  std::atomic<bool> ok{false};
  std::thread stopper([&] {
    ok = tree.stop();
    uint64_t one = 1;
    if (efd >= 0) [[maybe_unused]] auto n = ::write(efd, &one, sizeof one);
  });
  for (bool done = efd < 0; !done;) {
    pollfd p[2] = {{efd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    done = p[0].revents & POLLIN;
    int sig;
    while (!done && (sig = os::read_signal(sfd)) > 0) {
      if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
        spdlog::warn("supervisor=root event=halt reason=\"second {}: SIGKILL to every "
                     "process group now\"", config::signal_name(sig));
        caf::anon_send(tree.root(), halt_atom::value);
      }
    }
  }
  stopper.join();
  if (efd >= 0) ::close(efd);
  return ok;
}

/// Blocks until SIGTERM, SIGINT or SIGQUIT; returns it.
int wait_for_stop_signal(int sfd) {
  for (;;) {
    pollfd p{sfd, POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("poll on signalfd failed: {}", std::strerror(errno));
      return SIGTERM;
    }
    int sig;
    while ((sig = os::read_signal(sfd)) > 0) {
      if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) return sig;
      if (sig == SIGHUP)
        spdlog::info("supervisor=root event=signal reason=\"SIGHUP ignored: config reload "
                     "is `arbor apply`\"");
    }
  }
}

} // namespace

int run(const run_options& opts) {
  // First, before any thread exists: every thread inherits the mask.
  auto blocked = os::block_control_signals();
  setup_logging();
  auto res = config::load_file(opts.file);
  if (!res.ok()) {
    for (auto& e : res.errors) fmt::print(stderr, "{}\n", e.to_string());
    fmt::print(stderr, "arbor: {} error{} in {}; nothing started\n", res.errors.size(),
               res.errors.size() == 1 ? "" : "s", opts.file);
    return 2;
  }
  int sfd = os::open_signalfd(blocked);
  if (sfd < 0) {
    fmt::print(stderr, "arbor: signalfd: {}\n", std::strerror(errno));
    return 1;
  }
  auto log_dir = opts.log_dir.empty() ? arbor_home() + "/logs" : opts.log_dir;

  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", size_t{2});
  int rc = 0;
  {
    caf::actor_system sys{cfg};
    try {
      supervision_tree tree{sys, std::move(*res.tree), {log_dir, true}};
      size_t instances = 0;
      auto apps = count_apps(tree.spec().root, instances);
      spdlog::info("supervisor=root event=starting config={} apps={} instances={} logs={} pid={}",
                   tree.spec().file, apps, instances, log_dir, ::getpid());
      tree.start();
      int sig = wait_for_stop_signal(sfd);
      spdlog::info("supervisor=root event=shutdown reason={} (stopping in reverse start order)",
                   config::signal_name(sig));
      if (!stop_tree(tree, sfd)) {
        spdlog::error("supervisor=root event=shutdown reason=\"stop timed out\"");
        rc = 1;
      } else {
        spdlog::info("supervisor=root event=stopped reason=\"all processes stopped\"");
      }
    } catch (const std::exception& e) {
      spdlog::critical("supervisor=root event=startup_failed reason=\"{}\"", e.what());
      rc = 1;
    }
  }
  ::close(sfd);
  return rc;
}

} // namespace arbor::cli
