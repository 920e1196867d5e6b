// `arbor start [--name N] [-i N] [--restart R] [--cwd DIR] [--env K=V] -- CMD
// ARGS`: a command run without a file, added to the running tree and to the
// overlay the daemon keeps (config/overlay.hpp), started with a daemon if
// none runs. `arbor start NAME...` (no `--`) starts what the tree has, and
// `arbor delete NAME` takes an app `start -- CMD` added out again.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/pm2_import.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"
#include "config/overlay.hpp"
#include "config/shell_split.hpp"
#include "os/home_lock.hpp"
#include "proto/client.hpp"

namespace arbor::cli {

namespace {

/// The words after `start ... --` (take_start_command); empty without `--`.
std::vector<std::string>& start_command() {
  static std::vector<std::string> words;
  return words;
}

struct start_options {
  std::vector<std::string> names;
  bool json = false;
  std::string name, restart, cwd;
  int64_t instances = 1;
  std::vector<std::string> env;
};

/// The app `opts` and the command describe, checked as the config file's
/// apps are (the loader's own messages); fails with exit 2 on a bad value.
config::started_app checked_app(const start_options& opts) {
  config::started_app app;
  const auto& words = start_command();
  app.name = opts.name.empty() ? command_name(words) : opts.name;
  app.args = words;
  app.instances = opts.instances;
  app.restart = opts.restart;
  app.cwd = absolute_path(opts.cwd.empty() ? "." : opts.cwd);
  app.env = opts.env;
  std::string error;
  auto text = config::overlay_with("", app, error);
  if (!error.empty()) fail(exit_bad_config, error + "; nothing changed");
  auto res = config::load_string(text, "arbor start", app.cwd);
  if (res.ok()) return app;
  for (auto& d : res.errors) std::fprintf(stderr, "arbor: %s\n", d.message.c_str());
  fail(exit_bad_config, "'" + app.name + "' not started; nothing changed");
}

/// True if a daemon answers on the socket.
bool daemon_answers() {
  std::string error;
  auto c = proto::client::connect(socket_path(), error);
  if (!c) return false;
  proto::request ping;
  ping.cmd = "ping";
  auto r = c->call(ping, error, 5000);
  return r && r->type == proto::response::kind::ok;
}

/// No daemon: one for the overlay's apps alone (the apps `start -- CMD`
/// added before), refusing a name the overlay has before starting anything.
void start_daemon_for(const config::started_app& app) {
  const auto home = arbor_home();
  std::string text, error;
  if (!config::read_overlay(home, text, error)) fail(exit_failed, error + "; nothing changed");
  for (const auto& n : config::overlay_names(text))
    if (n == app.name)
      fail(exit_failed, "'" + app.name + "' is already an app `arbor start` added (it starts with "
                          "the daemon: `arbor up`); --name NAME gives another name; nothing changed");
  int pid = start_daemon("", "", home);
  if (pid != 0) {
    const auto before = config::overlay_names(text).size();
    std::printf("arbor: daemon started (pid %d) with no config file%s\n", pid,
                before == 0 ? ""
                            : (" and the " + std::to_string(before) + " app"
                               + (before == 1 ? "" : "s") + " `arbor start` added before")
                                .c_str());
  }
}

void run_start_command(const start_options& opts) {
  if (!opts.names.empty())
    fail(exit_failed, "give app names or `-- CMD ARGS`, not both");
  auto app = checked_app(opts);
  if (!daemon_answers()) start_daemon_for(app);
  nlohmann::json args{{"name", app.name},   {"args", app.args}, {"instances", app.instances},
                      {"restart", app.restart}, {"cwd", app.cwd},   {"env", app.env}};
  auto result = call_daemon("add", args, action_timeout_ms);
  if (opts.json) return print_json(result);
  std::string what = "`" + config::detail::shell_join(app.args) + "`";
  if (app.instances != 1) what = std::to_string(app.instances) + " instances of " + what;
  if (!app.restart.empty()) what += ", restart " + app.restart;
  std::printf("arbor: started %s (%s); `arbor delete %s` removes it\n", app.name.c_str(),
              what.c_str(), app.name.c_str());
  fail_on_unstarted({app.name});
  auto status = call_daemon("status", nlohmann::json{{"names", {app.name}}});
  std::fputs(render_status(status, use_color(STDOUT_FILENO)).c_str(), stdout);
}

/// `delete` with no daemon: the app leaves the overlay, so the next `up`
/// does not start it (and stops what of it may still run, as a stray).
/// Never while a daemon holds the lock: it may be writing the overlay.
void delete_offline(const std::string& name, bool json) {
  const auto home = arbor_home();
  if (auto refused = check_home(home); !refused.empty()) fail(exit_failed, refused);
  if (os::home_locked(home))
    fail(exit_failed, "a daemon holds " + home + "/arbor.lock but does not answer (starting or "
                        "stopping): try again in a moment; nothing changed");
  std::string text, error;
  if (!config::read_overlay(home, text, error)) fail(exit_failed, error + "; nothing changed");
  const auto names = config::overlay_names(text);
  if (std::find(names.begin(), names.end(), name) == names.end())
    fail(exit_failed, "'" + name + "' is no app `arbor start` added on " + home
                        + " (a config file's app: edit the file); nothing changed");
  if (!config::write_overlay(home, config::overlay_without(text, name), error))
    fail(exit_failed, error + "; nothing changed");
  if (json) return print_json(nlohmann::json{{"deleted", name}, {"daemon", false}});
  std::printf("arbor: deleted %s (no daemon runs: it no longer starts with one)\n", name.c_str());
}

} // namespace

void take_start_command(int& argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "start") != 0) return;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") != 0) continue;
    start_command().assign(argv + i + 1, argv + argc);
    if (start_command().empty()) start_command().push_back(""); // `--` and nothing: said below
    argc = i;
    return;
  }
}

void add_start_verb(CLI::App& app) {
  auto opts = std::make_shared<start_options>();
  auto* cmd = app.add_subcommand(
    "start", "Start apps, groups or instances; or `start [OPTIONS] -- CMD ARGS`: run a command "
             "without a config file (kept across down/up; `arbor delete NAME` removes it)");
  auto* names = cmd->add_option("names", opts->names,
                                "Apps, groups or instances (web.api, web, api, web.api#1), or all");
  if (start_command().empty()) names->required(); // else `start -- CMD` (names then refused)
  cmd->add_flag("--json", opts->json, "Print the daemon's result as JSON");
  cmd->add_option("--name", opts->name, "-- CMD: the app's name (default: the script an interpreter runs, as PM2 names it, "
                  "else the program's name)");
  cmd->add_option("-i,--instances", opts->instances, "-- CMD: how many instances (default 1)");
  cmd->add_option("--restart", opts->restart,
                  "-- CMD: always, on_failure or never (default: on_failure)");
  cmd->add_option("--cwd", opts->cwd, "-- CMD: where it runs (default: here)");
  cmd->add_option("--env", opts->env, "-- CMD: NAME=value for its environment (repeatable)");
  cmd->callback([opts, cmd] {
    if (!start_command().empty()) {
      if (start_command().front().empty()) fail(exit_failed, "`start --` needs a command after it");
      return run_start_command(*opts);
    }
    for (const char* o : {"--name", "--instances", "--restart", "--cwd", "--env"})
      if (cmd->count(o) > 0)
        fail(exit_failed, std::string{o} + " goes with a command: arbor start " + o
                            + " ... -- CMD ARGS");
    run_control_verb("start", "started", opts->names, opts->json, action_timeout_ms);
  });

  struct delete_options {
    std::string name;
    bool json = false;
  };
  auto d = std::make_shared<delete_options>();
  auto* del = app.add_subcommand(
    "delete", "Stop an app `arbor start -- CMD` added and forget it (a config file's app: edit "
              "the file, then `arbor apply`)");
  del->add_option("name", d->name, "The app's name")->required();
  del->add_flag("--json", d->json, "Print the daemon's result as JSON");
  del->callback([d] {
    if (!daemon_answers()) return delete_offline(d->name, d->json);
    auto result = call_daemon("delete", nlohmann::json{{"name", d->name}}, action_timeout_ms);
    if (d->json) return print_json(result);
    std::printf("arbor: deleted %s (stopped; it no longer starts with the daemon)\n",
                d->name.c_str());
  });
}

} // namespace arbor::cli
