// arbor-keeper: holds app output pipes while the daemon is away (keeper.hpp).
//
//   arbor-keeper [--foreground] [--idle-flush MS] [--startup-grace MS]
//                [--replace-limit N] [--replace-period MS] HOME
//
// Without --foreground it forks: the keeper runs in its own session with
// stdin on /dev/null and stdout/stderr appended to HOME/keeper.log, and the
// first process exits once the keeper listens (0), finds another keeper
// holding the lock (3), or fails (1, the reason in keeper.log).

#include "keeper/keeper.hpp"
#include "keeper/streams.hpp"
#include "keeper/wire.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int usage() {
  std::fputs("usage: arbor-keeper [--foreground] [--idle-flush MS] [--startup-grace MS]\n"
             "                    [--replace-limit N] [--replace-period MS] HOME\n",
             stderr);
  return 2;
}

bool number(const char* s, unsigned long long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s, &end, 10);
  return errno == 0 && end != s && *end == '\0';
}

/// Many apps x 2 streams can pass the usual soft limit of 1024 descriptors.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/// stdin from /dev/null, stdout/stderr appended to `log`.
void redirect(const std::string& log) {
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0)
    out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (in >= 0) {
    ::dup2(in, 0);
    ::close(in);
  }
  if (out >= 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close(out);
  }
}

} // namespace

int main(int argc, char** argv) {
  arbor::keeper::keeper_options opts;
  bool foreground = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    unsigned long long v = 0;
    if (a == "--foreground") {
      foreground = true;
    } else if ((a == "--idle-flush" || a == "--startup-grace" || a == "--replace-limit"
                || a == "--replace-period")
               && i + 1 < argc) {
      if (!number(argv[++i], v))
        return usage();
      if (a == "--idle-flush")
        opts.idle_flush = std::chrono::milliseconds(v);
      else if (a == "--startup-grace")
        opts.startup_grace = std::chrono::milliseconds(v);
      else if (a == "--replace-limit")
        opts.replace_limit = static_cast<size_t>(v);
      else
        opts.replace_period = std::chrono::milliseconds(v);
    } else if (!a.empty() && a[0] != '-' && opts.home.empty()) {
      opts.home = a;
    } else {
      return usage();
    }
  }
  if (opts.home.empty())
    return usage();

  // A write to a peer that went away must be an error, not our death.
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  int ready[2] = {-1, -1};
  if (!foreground) {
    if (::pipe2(ready, O_CLOEXEC) != 0) {
      std::perror("arbor-keeper: pipe");
      return arbor::keeper::keeper_exit_error;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("arbor-keeper: fork");
      return arbor::keeper::keeper_exit_error;
    }
    if (pid > 0) {
      // Wait for the keeper to say how it went: one byte, its exit code.
      ::close(ready[1]);
      unsigned char code = arbor::keeper::keeper_exit_error;
      ssize_t n;
      do
        n = ::read(ready[0], &code, 1);
      while (n < 0 && errno == EINTR);
      if (n != 1)
        code = arbor::keeper::keeper_exit_error;
      if (code != 0) // it is exiting: do not leave a zombie for init to find
        ::waitpid(pid, nullptr, 0);
      return code;
    }
    ::close(ready[0]);
    ::setsid(); // out of the daemon's session and process group: its signals miss us
    redirect(arbor::keeper::detail::log_path(opts.home));
  }

  arbor::keeper::keeper_server server{opts};
  std::string error;
  int code = server.open(error);
  if (code != arbor::keeper::keeper_exit_ok)
    arbor::keeper::detail::note("event=start_failed error=\"" + error + "\"");
  if (ready[1] >= 0) {
    unsigned char byte = static_cast<unsigned char>(code);
    (void)!::write(ready[1], &byte, 1);
    ::close(ready[1]);
  }
  if (code != arbor::keeper::keeper_exit_ok)
    return code;
  return server.run();
}
