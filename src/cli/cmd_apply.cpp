// `arbor apply [FILE]`: load a config into the running daemon and print
// what changed. A config with errors changes nothing (exit 2).

#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

void add_apply_verb(CLI::App& app) {
  struct options {
    std::string file;
    bool json = false;
    bool dry_run = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd = app.add_subcommand("apply", "Apply a config to the running tree; print what changed");
  cmd->add_option("file", opts->file, "Config file (default: the one the daemon runs)");
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->add_flag("--dry-run,-n", opts->dry_run,
                "Print what would be added, removed, restarted (and which keys changed) or "
                "scaled; change nothing");
  cmd->callback([opts] {
    auto args = nlohmann::json::object();
    if (!opts->file.empty()) {
      // The daemon has its own cwd: resolve against ours.
      std::error_code ec;
      auto cwd = std::filesystem::current_path(ec);
      if (ec) fail(exit_failed, "cannot resolve '" + opts->file + "': " + ec.message());
      args["file"] = absolute_config_path(opts->file, cwd.string());
    }
    if (opts->dry_run) args["dry_run"] = true;
    auto result = call_daemon("apply", args, action_timeout_ms);
    if (opts->json) return print_json(result);
    std::fputs(render_apply(result, stdout_color()).c_str(), stdout);
  });
}

} // namespace arbor::cli
