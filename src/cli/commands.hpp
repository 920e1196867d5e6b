#pragma once

#include <string>

namespace arbor::cli {

/// $ARBOR_HOME, else $HOME/.arbor.
std::string arbor_home();

struct run_options {
  std::string file = "arbor.toml";
  std::string log_dir;   ///< "" = <home>/logs
};

/// `arbor run`: the tree in the foreground until SIGTERM/SIGINT. Returns the
/// process exit code (0 after a clean stop, 2 for a bad config).
int run(const run_options& opts);

/// `arbor check FILE`: validates, prints every error or the tree.
int check(const std::string& file);

/// True when stderr/stdout (fd) should get colour: a TTY and no NO_COLOR.
bool use_color(int fd);

} // namespace arbor::cli
