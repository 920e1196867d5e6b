#pragma once

// arbor-daemon's command line, which only the `arbor` CLI writes:
//
//   arbor-daemon run [FILE] [--log-dir DIR] [--env NAME]   the tree in the foreground
//   arbor-daemon daemon FILE [--env NAME]                  the tree as a daemon
//
// Parsed with CLI11, like the CLI's own command line.

#include <stdexcept>
#include <string>
#include <vector>

namespace arbor::cli {

struct daemon_args {
  bool help = false;
  bool foreground = true;          ///< `run`; false: `daemon`
  std::string file = "arbor.toml";
  std::string log_dir;             ///< "" = <home>/logs
  std::string env;                 ///< the selected environment (config::load_options)
  bool attach = true;              ///< `run`: the apps' output on our stdout/stderr too
  bool finish_down = false;        ///< `daemon --finish-down`: stop what a dead daemon left
};

/// The usage text (for --help and after an error).
extern const char* const daemon_usage;

/// `args` without argv[0]. Throws std::invalid_argument saying what is wrong.
daemon_args parse_daemon_args(const std::vector<std::string>& args);

/// The command line that starts a daemon on `file` with environment `env`
/// ("" = none): what `arbor up` runs, and what arbor-keeper runs again when
/// the daemon dies (with `finish_down` once it is stopping: the replacement
/// finishes the stop). argv[0] is the arbor-daemon beside this executable.
std::vector<std::string> daemon_command_for(const std::string& file, const std::string& env,
                                            bool finish_down = false);

} // namespace arbor::cli
