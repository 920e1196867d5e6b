// `arbor status [NAME...]` (alias `ls`): one row per instance.

#include <cstdio>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

void add_status_verb(CLI::App& app) {
  struct options {
    std::vector<std::string> names;
    bool json = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd =
    app.add_subcommand("status", "List instances: state, pid, uptime, restarts, memory, cpu");
  cmd->alias("ls");
  cmd->add_option("names", opts->names,
                  "Apps, groups or instances (web.api, web, api, web.api#1); default: all");
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->callback([opts] {
    auto args = nlohmann::json::object();
    if (!opts->names.empty()) args["names"] = opts->names;
    auto result = call_daemon("status", args);
    if (opts->json) return print_json(result);
    std::fputs(render_status(result, stdout_color()).c_str(), stdout);
  });
}

} // namespace arbor::cli
