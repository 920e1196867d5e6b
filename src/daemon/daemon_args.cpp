#include "daemon/daemon_args.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>

#include "os/paths.hpp"

namespace arbor::cli {

const char* const daemon_usage =
  "arbor-daemon: the supervision tree (use the `arbor` CLI)\n"
  "Usage:\n"
  "  arbor-daemon run [FILE] [--log-dir DIR] [--no-attach] [--env NAME]\n"
  "                                            the tree in the foreground until SIGTERM/SIGINT;\n"
  "                                            the apps' output on stdout/stderr unless --no-attach\n"
  "  arbor-daemon daemon FILE [--env NAME]     the tree as a daemon (started by `arbor up`);\n"
  "                                            FILE '' runs the apps `arbor start` added alone;\n"
  "                                            --finish-down (the keeper's, for a daemon that died\n"
  "                                            while stopping) stops what it left and exits\n"
  "  --env NAME: each app's env_NAME table overlays its env\n";

namespace {

/// What CLI11 left over in `verb`: an unknown option or a second file.
void refuse_extras(const CLI::App& sub, const std::string& verb) {
  auto rest = sub.remaining();
  if (rest.empty()) return;
  const auto& a = rest.front();
  if (a.size() > 1 && a[0] == '-')
    throw std::invalid_argument("unknown option '" + a + "' for " + verb);
  throw std::invalid_argument("unexpected argument '" + a + "': one config file");
}

} // namespace

daemon_args parse_daemon_args(const std::vector<std::string>& args) {
  daemon_args out;
  // Help anywhere wins, also after a mistake (`arbor-daemon start --help`).
  if (std::any_of(args.begin(), args.end(),
                  [](const std::string& a) { return a == "-h" || a == "--help"; })) {
    out.help = true;
    return out;
  }
  if (args.empty()) throw std::invalid_argument("a subcommand is required: run or daemon");
  CLI::App app{"arbor-daemon"};
  app.set_help_flag();
  app.allow_extras(); // refused below, in the daemon's own words
  auto* run = app.add_subcommand("run")->allow_extras();
  run->set_help_flag();
  run->add_option("file", out.file);
  auto* log_dir = run->add_option("--log-dir", out.log_dir);
  bool no_attach = false;
  run->add_flag("--no-attach", no_attach);
  auto* daemon = app.add_subcommand("daemon")->allow_extras();
  daemon->set_help_flag();
  auto* daemon_file = daemon->add_option("file", out.file);
  auto* run_env = run->add_option("--env", out.env);
  auto* daemon_env = daemon->add_option("--env", out.env);
  daemon->add_flag("--finish-down", out.finish_down);
  app.require_subcommand(0, 1);

  std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 parses from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ArgumentMismatch& e) {
    if (std::string{e.what()}.find("--env") != std::string::npos)
      throw std::invalid_argument("--env needs an environment name");
    throw std::invalid_argument("--log-dir needs a directory");
  } catch (const CLI::ParseError& e) {
    throw std::invalid_argument(e.what());
  }
  if (!run->parsed() && !daemon->parsed())
    throw std::invalid_argument("unknown subcommand '" + args[0] + "': run or daemon");
  out.foreground = run->parsed();
  out.attach = !no_attach;
  const std::string verb = out.foreground ? "run" : "daemon";
  refuse_extras(out.foreground ? *run : *daemon, verb);
  if (log_dir->count() > 0 && out.log_dir.empty())
    throw std::invalid_argument("--log-dir needs a directory");
  if (run_env->count() + daemon_env->count() > 0 && out.env.empty())
    throw std::invalid_argument("--env needs an environment name");
  if (!out.foreground && daemon_file->count() == 0)
    throw std::invalid_argument("daemon needs the config file");
  return out;
}

std::vector<std::string> daemon_command_for(const std::string& file, const std::string& env,
                                            bool finish_down) {
  std::vector<std::string> argv{os::beside_exe("arbor-daemon"), "daemon", file};
  if (!env.empty()) { // a replacement runs the same environment
    argv.push_back("--env");
    argv.push_back(env);
  }
  if (finish_down) argv.push_back("--finish-down");
  return argv;
}

} // namespace arbor::cli
