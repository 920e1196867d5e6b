// arbor-daemon: the supervision tree and its control socket. Started by
// `arbor run` (which execs it in place: same pid, same signals, same exit
// code) and by `arbor up` (detached). Kept apart from the `arbor` CLI so the
// CLI does not load CAF on every invocation (~2 ms of dynamic
// linking per command).

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"arbor-daemon: the supervision tree (use the `arbor` CLI)"};
  app.require_subcommand(1);
  std::string file = "arbor.toml", log_dir;
  auto* run = app.add_subcommand("run", "The tree in the foreground until SIGTERM/SIGINT");
  run->add_option("file", file, "Config file")->capture_default_str();
  run->add_option("--log-dir", log_dir, "Where apps' stdout/stderr go");
  auto* daemon = app.add_subcommand("daemon", "The tree as a daemon (started by `arbor up`)");
  daemon->add_option("file", file, "Config file")->required();
  CLI11_PARSE(app, argc, argv);
  if (*daemon) {
    if (::chdir("/") != 0) return arbor::cli::exit_failed;
    return arbor::cli::serve(file, "", false);
  }
  return arbor::cli::serve(file, log_dir, true);
}
