// arbor-top: `arbor top`, which the arbor CLI execs (src/cli/cmd_top.cpp).

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "top/session.hpp"

int main(int argc, char** argv) {
  using namespace arbor::cli;
  CLI::App app{"arbor top: live view of the tree (keys: see the README)", "arbor top"};
  bool read_only = false;
  app.add_flag("--read-only", read_only, "Only show: the action keys are off");
  app.callback([&] {
    if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO))
      fail(exit_failed, "top needs a terminal (stdin and stdout); use `arbor status` or "
                        "`arbor events -f` in scripts");
    call_daemon("ping"); // no daemon: say so before taking the screen
    arbor::top::top_options o;
    o.socket = socket_path();
    o.read_only = read_only;
    o.color = use_color(STDOUT_FILENO);
    arbor::top::run_top(o);
  });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
