// `arbor tree`: the live supervision tree.

#include <cstdio>
#include <memory>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

namespace {

/// The terminal's columns when stdout is one; 0 (no limit) for pipes, so
/// scripts and pagers get whole lines.
size_t terminal_width() {
  if (!::isatty(STDOUT_FILENO)) return 0;
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

} // namespace

void add_tree_verb(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("tree", "Show the live supervision tree");
  cmd->add_flag("--json", *json, "Print the daemon's result as JSON");
  cmd->callback([json] {
    auto tree = call_daemon("tree");
    if (*json) return print_json(tree);
    auto ping = call_daemon("ping"); // the header names the config file
    std::fputs(render_tree(tree, ping, stdout_color(), terminal_width()).c_str(), stdout);
  });
}

} // namespace arbor::cli
