#include "cli/daemon_args.hpp"

namespace arbor::cli {

const char* const daemon_usage =
  "arbor-daemon: the supervision tree (use the `arbor` CLI)\n"
  "Usage:\n"
  "  arbor-daemon run [FILE] [--log-dir DIR]   the tree in the foreground until SIGTERM/SIGINT\n"
  "  arbor-daemon daemon FILE                  the tree as a daemon (started by `arbor up`)\n";

daemon_args parse_daemon_args(const std::vector<std::string>& args) {
  daemon_args out;
  for (auto& a : args)
    if (a == "-h" || a == "--help") {
      out.help = true;
      return out;
    }
  if (args.empty()) throw std::invalid_argument("a subcommand is required: run or daemon");
  const auto& verb = args[0];
  if (verb != "run" && verb != "daemon")
    throw std::invalid_argument("unknown subcommand '" + verb + "': run or daemon");
  out.foreground = verb == "run";
  bool have_file = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    if (out.foreground && (a == "--log-dir" || a.rfind("--log-dir=", 0) == 0)) {
      if (a == "--log-dir") {
        if (++i == args.size()) throw std::invalid_argument("--log-dir needs a directory");
        out.log_dir = args[i];
      } else {
        out.log_dir = a.substr(10);
      }
      if (out.log_dir.empty()) throw std::invalid_argument("--log-dir needs a directory");
    } else if (a.size() > 1 && a[0] == '-') {
      throw std::invalid_argument("unknown option '" + a + "' for " + verb);
    } else if (!have_file) {
      out.file = a;
      have_file = true;
    } else {
      throw std::invalid_argument("unexpected argument '" + a + "': one config file");
    }
  }
  if (!out.foreground && !have_file)
    throw std::invalid_argument("daemon needs the config file");
  return out;
}

} // namespace arbor::cli
