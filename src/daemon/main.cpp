// arbor-daemon: the supervision tree and its control socket. Started by
// `arbor run` (which execs it in place: same pid, same signals, same exit
// code) and by `arbor up` (detached). Kept apart from the `arbor` CLI so the
// CLI does not load CAF on every invocation (~2 ms of dynamic
// linking per command).

#include <cstdio>

#include <unistd.h>

#include "cli/commands.hpp"
#include "daemon/daemon_args.hpp"

int main(int argc, char** argv) {
  using namespace arbor::cli;
  daemon_args a;
  try {
    a = parse_daemon_args(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "arbor-daemon: %s\n%s", e.what(), daemon_usage);
    return exit_bad_config; // 2: a usage error, nothing started
  }
  if (a.help) {
    std::fputs(daemon_usage, stdout);
    return exit_ok;
  }
  if (!a.foreground) {
    if (::chdir("/") != 0) return exit_failed;
    return serve(a.file, a.env, "", false, false, a.finish_down);
  }
  return serve(a.file, a.env, a.log_dir, true, a.attach);
}
