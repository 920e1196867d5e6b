// `arbor signal SIG NAME...`: send a signal to instances' processes.

#include <cstdio>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

void add_signal_verb(CLI::App& app) {
  struct options {
    std::string signal;
    std::vector<std::string> names;
    bool json = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd = app.add_subcommand("signal", "Send a signal (HUP, USR1, 10, ...) to instances");
  cmd->add_option("sig", opts->signal, "Signal name or number")
    ->required()
    ->check(CLI::Validator(
      [](std::string& text) {
        std::string error;
        return parse_signal_arg(text, error) ? std::string{} : error;
      },
      "SIG", "signal"));
  cmd
    ->add_option("names", opts->names,
                 "Apps, groups or instances (web.api, web, api, web.api#1), or all")
    ->required();
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->callback([opts] {
    std::string error;
    auto sig = parse_signal_arg(opts->signal, error).value_or(opts->signal); // checked above
    auto result = call_daemon("signal", {{"signal", sig}, {"names", opts->names}});
    if (opts->json) print_json(result);
    auto text = render_signaled(sig, result);
    if (text.empty()) {
      std::string names;
      for (const auto& n : opts->names) names += (names.empty() ? "" : ", ") + n;
      fail(exit_failed, "no process to signal: nothing in " + names + " is running");
    }
    if (!opts->json) std::fputs(text.c_str(), stdout);
  });
}

} // namespace arbor::cli
