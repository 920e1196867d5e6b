#pragma once

#include <string>

#include "arbor/spec.hpp"

namespace CLI {
class App;
}

namespace arbor::config {
struct load_result;
}

namespace arbor::cli {

/// $ARBOR_HOME, else $HOME/.arbor.
std::string arbor_home();
/// <home>/arbor.sock
std::string socket_path();

/// Exit codes of every verb.
enum exit_code : int {
  exit_ok = 0,
  exit_failed = 1,       ///< the daemon answered with an error, or the action failed
  exit_bad_config = 2,   ///< a config file has errors (nothing was changed)
  exit_no_daemon = 3,    ///< no daemon is running (or it cannot be reached)
};

struct run_options {
  std::string file = "arbor.toml";
  std::string log_dir;   ///< "" = <home>/logs
};

/// `arbor run` / `arbor daemon` (in the arbor-daemon binary): the tree until
/// SIGTERM/SIGINT or a `shutdown` request, serving the control socket.
/// Returns the process exit code.
int serve(const std::string& file, const std::string& log_dir, bool foreground);

/// `file` made absolute against the cwd, lexically normalized.
std::string absolute_path(const std::string& file);
/// The arbor-daemon binary next to this executable.
std::string daemon_binary();
/// Prints every error of a config that did not load; true if there were any.
bool report_errors(const config::load_result& res, const std::string& file);
/// Apps (and, added to `instances`, their instance count) under `g`.
size_t count_apps(const group_spec& g, size_t& instances);

/// `arbor check FILE`: validates, prints every error or the tree.
int check(const std::string& file);

/// True when `fd` should get colour: a TTY and no NO_COLOR.
bool use_color(int fd);

/// Registers `run`, `up`, `down`, `check` and the hidden `daemon` (lifecycle.cpp).
void add_lifecycle_verbs(CLI::App& app);

/// Registers the client verbs: status/ls, tree, show, start, stop, restart,
/// scale, signal, apply, events, top (verbs.cpp and friends).
void add_client_verbs(CLI::App& app);

/// Registers `logs` and `flush` (cmd_logs.cpp).
void add_log_verbs(CLI::App& app);

/// Registers `startup` (cmd_startup.cpp): the systemd unit.
void add_system_verbs(CLI::App& app);

} // namespace arbor::cli
