// arbor: a process manager built as an OTP-style supervision tree.

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"arbor: a supervision tree for your processes"};
  app.set_version_flag("--version", "arbor 0.1.0");
  app.require_subcommand(1);

  arbor::cli::run_options run_opts;
  auto* run = app.add_subcommand("run", "Run the tree in the foreground until SIGTERM/SIGINT");
  run->add_option("file", run_opts.file, "Config file")->capture_default_str();
  run->add_option("--log-dir", run_opts.log_dir,
                  "Where instances' stdout/stderr go (default: $ARBOR_HOME/logs)");

  std::string check_file;
  auto* check = app.add_subcommand("check", "Validate a config file and print its tree");
  check->add_option("file", check_file, "Config file")->required();

  CLI11_PARSE(app, argc, argv);
  if (*run) return arbor::cli::run(run_opts);
  if (*check) return arbor::cli::check(check_file);
  return 1;
}
