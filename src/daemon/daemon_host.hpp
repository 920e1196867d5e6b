#pragma once

// One arbor instance with its control plane: the supervision tree, the
// control actor and the control socket. Used by `arbor run` (foreground) and
// the daemon (`arbor up`); both serve the same protocol.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "arbor/tree.hpp"

namespace arbor::detail {

struct host_options {
  std::string home;          ///< $ARBOR_HOME: socket, logs
  std::string config_file;   ///< absolute path of the applied config
  std::string env;           ///< its selected environment (`--env`), "" = none
  std::string log_dir;       ///< the apps' log files (usually <home>/logs)
  bool log_events = true;    ///< events as log lines (arbor/spdlog.hpp)
  bool exit_on_root_failure = false; ///< `arbor run`: wait() returns when the root gives up
  /// How arbor-keeper starts this daemon again if it dies (tree_options::
  /// daemon_command); empty for `arbor run`: a container's foreground
  /// process stays the container's.
  std::vector<std::string> daemon_command;
  bool echo_output = false;  ///< `arbor run`: the apps' lines on our stdout/stderr too
  bool echo_color = false;   ///< ... with a colour per app (a terminal)
};

class daemon_host {
public:
  /// Builds the tree (not started), the control actor and the socket
  /// (<home>/arbor.sock), and with `[metrics]` or `[web]` enabled their
  /// HTTP servers (a failure there is logged, never thrown). Throws std::system_error
  /// (socket, log dir).
  daemon_host(caf::actor_system& sys, tree_spec spec, host_options opts);
  /// Closes the socket, stops whatever still runs, terminates the actors.
  ~daemon_host();

  void start();

  /// Waits until SIGTERM/SIGINT/SIGQUIT arrives on `signal_fd` or a client
  /// asks for `shutdown`; returns the signal, or 0 for a shutdown request,
  /// or -1 when the root supervisor gave up (only with exit_on_root_failure;
  /// a daemon keeps running and shows the tree failed).
  int wait(int signal_fd);

  /// Stops the tree gracefully; a second SIGTERM/SIGINT on `signal_fd`
  /// meanwhile SIGKILLs every process group at once. False on timeout.
  bool stop(int signal_fd);

  supervision_tree& tree();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::detail
