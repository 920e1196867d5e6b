// `arbor top [--read-only]`: the live terminal view. It lives in arbor-top
// (src/top/), which this verb becomes: ncurses is loaded only by `top`, not
// at the start of every other command.

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/verbs.hpp"
#include "os/paths.hpp"

namespace arbor::cli {

void add_top_verb(CLI::App& app) {
  auto read_only = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
    "top", "Live view of the tree: states, events, logs; keys to start, stop, restart, scale");
  cmd->add_flag("--read-only", *read_only, "Only show: the action keys are off");
  cmd->callback([read_only] {
    auto bin = os::beside_exe("arbor-top");
    std::vector<std::string> args{"arbor-top"};
    if (*read_only) args.emplace_back("--read-only");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    fail(exit_failed, "cannot run " + bin + ": " + std::strerror(errno));
  });
}

} // namespace arbor::cli
