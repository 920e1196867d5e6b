// arbor: a process manager built as an OTP-style supervision tree.
//
// Every verb registers itself with a callback; a callback that fails throws
// CLI::RuntimeError(code), which exit_code_for turns into the exit code (as
// it does CLI11's usage errors: the README's 1, 2, 3).

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // `start -- CMD ARGS`: the verbs are registered knowing it; CLI11 gets what precedes `--`.
  arbor::cli::take_start_command(argc, argv);
  CLI::App app{"arbor: a supervision tree for your processes"};
  app.set_version_flag("--version", "arbor 0.1.0");
  app.require_subcommand(1);
  arbor::cli::add_lifecycle_verbs(app);
  arbor::cli::add_client_verbs(app);
  arbor::cli::add_log_verbs(app);
  arbor::cli::add_system_verbs(app);
  arbor::cli::add_doctor_verb(app);
  arbor::cli::add_setup_verbs(app);
  arbor::cli::add_help_verb(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return arbor::cli::exit_code_for(app, e);
  }
  return 0;
}
