// `arbor help [VERB]`, and the exit code of a command line that does not
// parse: the README promises 0 for help, 1 for any usage error (CLI11's own
// codes, 100 and up, mean nothing to a script).

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"

namespace arbor::cli {

namespace {

/// The verb named `name` (or aliased so), nullptr if none.
const CLI::App* find_verb(const CLI::App& app, const std::string& name) {
  for (const auto* sub : app.get_subcommands({}))
    if (sub->check_name(name)) return sub;
  return nullptr;
}

} // namespace

void add_help_verb(CLI::App& app) {
  auto verb = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("help", "Print this help, or one verb's (arbor help stop)");
  cmd->add_option("verb", *verb, "The verb to explain");
  cmd->callback([&app, verb] {
    // Not app.help(): with a verb parsed (this one) it shows that verb's.
    if (verb->empty())
      return void(std::fputs(
        app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal).c_str(),
        stdout));
    const auto* sub = find_verb(app, *verb);
    if (!sub || sub == app.get_subcommand("help"))
      fail(exit_failed, "unknown verb '" + *verb + "' (arbor help lists them)");
    std::fputs(sub->help().c_str(), stdout);
  });
}

int exit_code_for(const CLI::App& app, const CLI::ParseError& e) {
  // A verb's own failure: it printed its message and chose its code.
  if (e.get_name() == "RuntimeError") return e.get_exit_code();
  // A first word that is no verb: say so, not "A subcommand is required".
  auto extra = app.remaining();
  if (e.get_name() == "RequiredError" && app.get_subcommands().empty() && !extra.empty()) {
    std::fprintf(stderr, "arbor: unknown verb '%s' (arbor help lists them)\n", extra.front().c_str());
    return exit_failed;
  }
  int code = app.exit(e); // prints help, the version, or the error
  return code == 0 ? exit_ok : exit_failed;
}

} // namespace arbor::cli
