// `arbor scale NAME N`: change an app's number of instances.

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

void add_scale_verb(CLI::App& app) {
  struct options {
    std::string name;
    std::string count;
    bool json = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd = app.add_subcommand("scale", "Run N instances of an app (0 stops them all)");
  cmd->add_option("name", opts->name, "App (web.api, api)")->required();
  check_count(
    cmd->add_option("n", opts->count, "Number of instances, 0.." + std::to_string(max_instances))
      ->required(),
    "N", max_instances);
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->callback([opts] {
    std::string error;
    auto n = parse_instance_count(opts->count, error); // checked above
    auto result =
      call_daemon("scale", {{"name", opts->name}, {"instances", n.value_or(0)}}, action_timeout_ms);
    if (opts->json) return print_json(result);
    std::fputs(render_scale(result).c_str(), stdout);
  });
}

} // namespace arbor::cli
