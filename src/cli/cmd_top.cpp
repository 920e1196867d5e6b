// `arbor top [--read-only]`: the live terminal view (src/top/).

#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/verbs.hpp"
#include "top/session.hpp"

namespace arbor::cli {

void add_top_verb(CLI::App& app) {
  auto read_only = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
    "top", "Live view of the tree: states, events, logs; keys to start, stop, restart, scale");
  cmd->add_flag("--read-only", *read_only, "Only show: the action keys are off");
  cmd->callback([read_only] {
    if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO))
      fail(exit_failed, "top needs a terminal (stdin and stdout); use `arbor status` or "
                        "`arbor events -f` in scripts");
    call_daemon("ping"); // no daemon: say so before taking the screen
    top::top_options o;
    o.socket = socket_path();
    o.read_only = *read_only;
    o.color = stdout_color();
    top::run_top(o);
  });
}

} // namespace arbor::cli
