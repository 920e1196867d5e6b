#pragma once

#include <string>
#include <vector>

#include <sys/stat.h>

#include "arbor/spec.hpp"

namespace CLI {
class App;
class ParseError;
}

namespace arbor::config {
struct load_result;
}

namespace arbor::cli {

/// $ARBOR_HOME, else $HOME/.arbor.
std::string arbor_home();
/// What is wrong with an existing ARBOR_HOME of that stat for user `me`:
/// `what` ("" = nothing) and the command that fixes it ("" if none does).
struct home_problem {
  std::string what;
  std::string fix;
};
home_problem judge_home(const std::string& home, const struct stat& st, uid_t me);
/// ssh's StrictModes habit: the home holds the socket, the logs and the
/// state, so it must be owned by us or root and writable by no one else.
/// Created 0700 when missing. Returns "" or the refusal, naming the owner,
/// the mode and the fix.
std::string check_home(const std::string& home);
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
  bool no_attach = false; ///< the apps' output only in the files
  std::string env;        ///< the selected environment, "" = none
};

/// `arbor run` / `arbor daemon` (in the arbor-daemon binary): the tree until
/// SIGTERM/SIGINT or a `shutdown` request, serving the control socket.
/// Returns the process exit code.
/// `attach` (foreground only): the apps' output also on our stdout/stderr,
/// prefixed as in the files, a colour per app on a terminal.
/// `env`: the environment selected (config::load_options::env), "" = none.
/// `finish_down` (a daemon the keeper starts for one that died while
/// stopping): start nothing, stop what the dead daemon left, exit.
int serve(const std::string& file, const std::string& env, const std::string& log_dir,
          bool foreground, bool attach, bool finish_down = false);

/// Starts arbor-daemon for `file` ("" = no file: the apps `arbor start`
/// added alone) in its own session, output to <home>/daemon.log, and waits
/// until it answers; returns its pid. Returns 0 if another daemon answers
/// instead: one that started at the same time (arbor-keeper replacing a
/// daemon that died) took the home's lock, and ours left. Fails (throws
/// CLI::RuntimeError) when it cannot start (lifecycle.cpp).
int start_daemon(const std::string& file, const std::string& env, const std::string& home);

/// `arbor start ... -- CMD ARGS`: takes the words after `--` out of the
/// command line (argc shrinks) for the `start` verb; called before the verbs
/// are registered and CLI11 parses (which cannot tell `start -- a b` from
/// `start a b`) (cmd_start.cpp).
void take_start_command(int& argc, char** argv);

/// `file` made absolute against the cwd, lexically normalized.
std::string absolute_path(const std::string& file);
/// The arbor-daemon binary next to this executable.
std::string daemon_binary();
/// Prints every error of a config that did not load; true if there were any.
bool report_errors(const config::load_result& res, const std::string& file);
/// Apps (and, added to `instances`, their instance count) under `g`.
size_t count_apps(const group_spec& g, size_t& instances);

/// `arbor check FILE`: validates, prints every error or the tree and how
/// each app becomes ready (render_readiness); then warns (exit 0 still)
/// about check_warnings with the CLI's PATH and readiness_warnings. A tree
/// whose descriptors a daemon started from here could not hold is an error.
int check(const std::string& file, const std::string& env = "");

/// Empty if a daemon started from this process (its soft limit raised to
/// our hard one) can hold `tree`'s descriptors; else the refusal.
std::string fd_refusal_here(const tree_spec& tree);

/// What a valid config names that is not there now: an app's cwd that is
/// missing, a command not found (with the app's PATH: its `env`, else
/// `path_env`). One "app: message" each. Warnings, not errors: the file
/// may be checked on another machine than where it runs.
std::vector<std::string> check_warnings(const tree_spec& tree, const std::string& path_env);

/// "ready when:" and one line per app, "  web.api: <config::ready_rule>"
/// ("" for a tree without apps).
std::string render_readiness(const tree_spec& tree);

/// config::ready_warnings of every app, "app: message" each.
std::vector<std::string> readiness_warnings(const tree_spec& tree);

/// True when `fd` should get colour: a TTY and no NO_COLOR.
bool use_color(int fd);

/// Registers `run`, `up`, `down`, `check` and the hidden `daemon` (lifecycle.cpp).
void add_lifecycle_verbs(CLI::App& app);

/// Registers `import` (a PM2 ecosystem file to TOML) and `init` (cmd_setup.cpp).
void add_setup_verbs(CLI::App& app);

/// Registers the client verbs: status/ls, tree, show, start, stop, restart,
/// scale, signal, apply, events, top (verbs.cpp and friends).
void add_client_verbs(CLI::App& app);

/// Registers `logs` and `flush` (cmd_logs.cpp).
void add_log_verbs(CLI::App& app);

/// Registers `startup` (cmd_startup.cpp): the systemd unit.
void add_system_verbs(CLI::App& app);

/// Registers `doctor` (cmd_doctor.cpp): the host's checks, no daemon.
void add_doctor_verb(CLI::App& app);

/// Registers `help [VERB]` (usage.cpp): prints the help, exit 0.
void add_help_verb(CLI::App& app);

/// The exit code for a command line `app` could not parse, or a verb's
/// failure: help and --version 0, a verb's own code as it chose, any usage
/// error (unknown verb or option, missing or invalid argument) exit_failed.
/// Prints the message (help, or the error on stderr).
int exit_code_for(const CLI::App& app, const CLI::ParseError& e);

} // namespace arbor::cli
