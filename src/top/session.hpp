#pragma once

// `arbor top`'s loop: keys, feeds and the daemon's tree into the model, a
// frame at most every 100 ms.

#include <string>

namespace arbor::top {

struct top_options {
  std::string socket;     ///< the daemon's control socket
  bool read_only = false; ///< no actions, only the view
  bool color = false;     ///< the CLI's colour decision for stdout
};

/// Takes the terminal until `q`, SIGINT or SIGTERM, then gives it back as it
/// was and ends the process with status 0 (threads blocked on the daemon are
/// not waited for). Call only with a terminal on stdin and stdout.
[[noreturn]] void run_top(const top_options& opts);

} // namespace arbor::top
