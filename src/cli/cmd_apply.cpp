// `arbor apply [FILE]`: load a config into the running daemon and print
// what changed. A config with errors changes nothing (exit 2).

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"
#include "proto/client.hpp"

namespace arbor::cli {

void fail_on_unstarted(const std::vector<std::string>& apps) {
  // Best effort: what was asked is done; a daemon too busy to answer the
  // status in time (thousands of instances starting) only loses this report.
  std::string error;
  auto conn = proto::client::connect(socket_path(), error);
  proto::request req;
  req.cmd = "status";
  if (!apps.empty()) req.args = nlohmann::json{{"names", apps}};
  auto reply = conn ? conn->call(std::move(req), error) : std::nullopt;
  if (!reply || reply->type != proto::response::kind::ok) {
    if (reply) error = reply->error_message;
    std::fprintf(stderr, "arbor: could not check that every instance started (%s)\n", error.c_str());
    return;
  }
  const auto& status = reply->result;
  std::vector<std::string> failed;
  for (const auto& i : status.value("instances", nlohmann::json::array())) {
    const auto app = i.value("app", std::string{});
    if (i.value("state", std::string{}) != "failed") continue;
    if (!apps.empty() && std::find(apps.begin(), apps.end(), app) == apps.end()) continue;
    failed.push_back(i.value("id", app));
    std::fprintf(stderr, "arbor: %s could not be started: %s\n", failed.back().c_str(),
                 i.value("reason", std::string{"failed"}).c_str());
  }
  if (failed.empty()) return;
  fail(exit_failed, std::to_string(failed.size()) + " instance" + (failed.size() == 1 ? "" : "s")
                      + " could not be started (arbor status shows them)");
}

void add_apply_verb(CLI::App& app) {
  struct options {
    std::string file;
    bool json = false;
    bool dry_run = false;
    std::string env;
  };
  auto opts = std::make_shared<options>();
  auto* cmd = app.add_subcommand("apply", "Apply a config to the running tree; print what changed");
  cmd->add_option("file", opts->file, "Config file (default: the one the daemon runs)");
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  auto* env = cmd->add_option(
    "--env", opts->env,
    "Select each app's env_NAME table over its env (default: the daemon's environment for "
    "the file it runs, none for another file; --env '' selects none)");
  cmd->add_flag("--dry-run,-n", opts->dry_run,
                "Print what would be added, removed, restarted (and which keys changed) or "
                "scaled; change nothing");
  cmd->callback([opts, env] {
    auto args = nlohmann::json::object();
    if (env->count() > 0) args["env"] = opts->env;
    if (!opts->file.empty()) {
      // The daemon has its own cwd: resolve against ours.
      std::error_code ec;
      auto cwd = std::filesystem::current_path(ec);
      if (ec) fail(exit_failed, "cannot resolve '" + opts->file + "': " + ec.message());
      args["file"] = absolute_config_path(opts->file, cwd.string());
    }
    if (opts->dry_run) args["dry_run"] = true;
    auto result = call_daemon("apply", args, action_timeout_ms);
    if (opts->json) print_json(result);
    else std::fputs(render_apply(result, stdout_color()).c_str(), stdout);
    if (opts->dry_run) return;
    auto started = result.value("added", std::vector<std::string>{});
    for (auto& c : result.value("changed", std::vector<std::string>{})) started.push_back(c);
    if (!started.empty()) fail_on_unstarted(started);
  });
}

} // namespace arbor::cli
