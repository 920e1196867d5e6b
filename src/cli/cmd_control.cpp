// `arbor start|stop|restart|reload NAME...` (start's other form, `start --
// CMD`, is in cmd_start.cpp): each replies once done (stop: the
// processes are gone, which may take each app's kill_timeout).

#include <cstdio>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

namespace {

void add_control_verb(CLI::App& app, const std::string& verb, const std::string& past,
                      const std::string& help, int timeout_ms = action_timeout_ms) {
  struct options {
    std::vector<std::string> names;
    bool json = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd = app.add_subcommand(verb, help);
  cmd
    ->add_option("names", opts->names,
                 "Apps, groups or instances (web.api, web, api, web.api#1), or all")
    ->required();
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->callback([opts, verb, past, timeout_ms] {
    run_control_verb(verb, past, opts->names, opts->json, timeout_ms);
  });
}

} // namespace

void run_control_verb(const std::string& verb, const std::string& past,
                      const std::vector<std::string>& names, bool json, int timeout_ms) {
  nlohmann::json args{{"names", names}};
  // A stop may wait out kill_timeout: say what is being waited for, as it happens.
  bool progress = !json && (verb == "stop" || verb == "restart");
  if (progress) args["progress"] = true;
  auto result = call_daemon(verb, args, timeout_ms, [](const nlohmann::json& item) {
    write_out(render_progress(item));
    return true; // a closed stdout does not cut the stop short
  });
  if (json) return print_json(result);
  std::fputs(render_affected(verb, past, result).c_str(), stdout);
}

void add_control_verbs(CLI::App& app) {
  add_start_verb(app); // and `start -- CMD` (cmd_start.cpp)
  add_control_verb(app, "stop", "stopped",
                   "Stop apps, groups or instances (then SIGKILL after kill_timeout)");
  add_control_verb(app, "restart", "restarted", "Stop, then start again");
  // Each instance waits for its replacement's readiness: allow an hour.
  add_control_verb(app, "reload", "reloaded",
                   "Rolling restart without downtime: per instance, start a replacement, wait "
                   "until it is ready, then stop the old run (aborts, keeping the old run, if "
                   "the replacement is not ready in time)",
                   6 * action_timeout_ms);
}

} // namespace arbor::cli
