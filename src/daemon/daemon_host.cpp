#include "daemon_host.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.hpp"

#include "config/units.hpp"
#include "control_actor.hpp"
#include "event_bus.hpp"
#include "metrics_server.hpp"
#include "os/signals.hpp"
#include "web_server.hpp"

namespace arbor::detail {

struct daemon_host::impl {
  caf::actor_system& sys;
  host_options opts;
  std::unique_ptr<supervision_tree> tree;
  std::shared_ptr<reply_sink> sink = std::make_shared<reply_sink>();
  caf::actor control;
  std::unique_ptr<proto::control_server> server;
  int shutdown_fd = -1; ///< eventfd: a client asked for `shutdown`
  int root_failed_fd = -1; ///< eventfd: the root supervisor gave up
  /// `[metrics]`, when enabled: as configured at startup (an `apply` that
  /// changes [metrics] takes effect at the next start of arbor).
  std::unique_ptr<metrics_server> metrics;
  /// `[web]`, when enabled: as configured at startup, like [metrics].
  std::unique_ptr<web_server> web;

  impl(caf::actor_system& s, host_options o) : sys(s), opts(std::move(o)) {
  }
};

daemon_host::daemon_host(caf::actor_system& sys, tree_spec spec, host_options opts)
  : impl_(std::make_unique<impl>(sys, std::move(opts))) {
  auto& d = *impl_;
  d.shutdown_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  d.root_failed_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d.shutdown_fd < 0 || d.root_failed_fd < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
  auto current = spec;
  auto metrics_cfg = spec.metrics;
  auto web_cfg = spec.web;
  tree_options topts;
  topts.log_dir = d.opts.log_dir;
  topts.log_events = d.opts.log_events;
  topts.runtime_dir = d.opts.home + "/run";
  topts.state_dir = d.opts.home;
  topts.daemon_command = d.opts.daemon_command;
  topts.echo_output = d.opts.echo_output;
  topts.echo_color = d.opts.echo_color;
  d.tree = std::make_unique<supervision_tree>(sys, std::move(spec), std::move(topts));
  control_options copts;
  copts.home = d.opts.home;
  copts.config_file = d.opts.config_file;
  copts.env = d.opts.env;
  copts.keeper_restarts = !d.opts.daemon_command.empty();
  int fd = d.shutdown_fd;
  copts.on_shutdown = [fd] {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  };
  int rfd = d.root_failed_fd;
  copts.on_root_gave_up = [rfd] {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(rfd, &one, sizeof one);
  };
  d.control = sys.spawn(control_actor, d.tree.get(), std::move(current), d.sink, std::move(copts));
  // Before the start: `arbor events` must show the start's and adoptions' events.
  if (!subscribe_before_start(sys, d.tree->events(), d.control))
    log_warn("supervisor=root event=events_partial reason=\"the event bus did not confirm "
             "the control actor's subscription: early events may be missing from arbor events\"");
  proto::control_server::handlers h;
  auto control = d.control;
  h.on_request = [control](uint64_t conn, proto::request req) {
    caf::anon_send(control, control_request{conn, std::move(req)});
  };
  h.on_close = [control](uint64_t conn) { caf::anon_send(control, conn_closed{conn}); };
  h.on_notice = [](const std::string& text) {
    log_warn("supervisor=root event=control_limit reason=\"{}\"", text);
  };
  d.server = std::make_unique<proto::control_server>(d.opts.home + "/arbor.sock", std::move(h));
  d.sink->attach(d.server.get());
  // Never throws: a bad address or a failed bind is logged, the tree runs on.
  if (metrics_cfg.enabled)
    d.metrics = std::make_unique<metrics_server>(sys, *d.tree, metrics_cfg);
  if (web_cfg.enabled)
    d.web = std::make_unique<web_server>(web_cfg, d.opts.home, d.control, *d.sink);
}

daemon_host::~daemon_host() {
  auto& d = *impl_;
  d.metrics.reset(); // first: its scrapes ask the tree
  d.web.reset();     // and its requests the control actor
  d.sink->detach();
  d.server.reset();
  caf::anon_send_exit(d.control, caf::exit_reason::user_shutdown);
  d.tree.reset();
  if (d.shutdown_fd >= 0) ::close(d.shutdown_fd);
  if (d.root_failed_fd >= 0) ::close(d.root_failed_fd);
}

void daemon_host::start() {
  impl_->tree->start();
}

supervision_tree& daemon_host::tree() {
  return *impl_->tree;
}

int daemon_host::wait(int signal_fd) {
  for (;;) {
    pollfd p[3] = {{signal_fd, POLLIN, 0},
                   {impl_->shutdown_fd, POLLIN, 0},
                   {impl_->opts.exit_on_root_failure ? impl_->root_failed_fd : -1, POLLIN, 0}};
    if (::poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      log_critical("supervisor=root event=poll_failed reason=\"{}\"", std::strerror(errno));
      return SIGTERM;
    }
    if (p[1].revents & POLLIN) return 0;
    if (p[2].revents & POLLIN) return -1;
    int sig;
    while ((sig = os::read_signal(signal_fd)) > 0) {
      if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) return sig;
      if (sig == SIGHUP)
        log_info("supervisor=root event=signal reason=\"SIGHUP ignored: reload the config "
                     "with `arbor apply`\"");
    }
  }
}

bool daemon_host::stop(int signal_fd) {
  auto& tree = *impl_->tree;
  int efd = ::eventfd(0, EFD_CLOEXEC);
  std::atomic<bool> ok{false};
  std::thread stopper([&] {
    ok = tree.stop();
    uint64_t one = 1;
    if (efd >= 0) [[maybe_unused]] auto n = ::write(efd, &one, sizeof one);
  });
  for (bool done = efd < 0; !done;) {
    pollfd p[2] = {{efd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    done = p[0].revents & POLLIN;
    int sig;
    while (!done && (sig = os::read_signal(signal_fd)) > 0) {
      if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
        log_warn("supervisor=root event=halt reason=\"second {}: SIGKILL to every "
                     "process group now\"", config::signal_name(sig));
        caf::anon_send(tree.root(), halt_atom::value);
      }
    }
  }
  stopper.join();
  if (efd >= 0) ::close(efd);
  return ok;
}

} // namespace arbor::detail
