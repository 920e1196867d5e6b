// `arbor show NAME`: one app or group, its instances and its settings.

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

void add_show_verb(CLI::App& app) {
  struct options {
    std::string name;
    bool json = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd = app.add_subcommand("show", "Show one app or group: instances and settings");
  cmd->add_option("name", opts->name, "App, group or instance (web.api, web, api, web.api#1)")->required();
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->callback([opts] {
    auto result = call_daemon("show", {{"name", opts->name}});
    if (opts->json) return print_json(result);
    std::fputs(render_show(result, stdout_color()).c_str(), stdout);
  });
}

} // namespace arbor::cli
