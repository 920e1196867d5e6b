// bench-mass-ref N APP FIFO [EXTRA_FDS]: the floor for starting and
// recovering N apps at once on this machine (bench/scale.sh measures arbor
// against it).
//
// posix_spawns N instances of `APP FIFO` with the attributes arbor uses (own
// process group, empty signal mask, default dispositions, stdin /dev/null,
// descriptors >= 3 closed), then loops on waitpid(-1) and spawns a
// replacement for every instance that exits: one thread, no bookkeeping
// beyond the pid list. SIGTERM/SIGINT: SIGKILL every instance's group, reap
// them, exit 0. EXTRA_FDS (default 0): hold that many more descriptors open
// (/dev/null), as a supervisor with pipes and pidfds per instance does: every
// spawn copies the descriptor table and the child closes them again.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

volatile sig_atomic_t stop_requested = 0;

void on_stop(int) {
  stop_requested = 1;
}

pid_t spawn_one(char* const argv[]) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::fprintf(stderr, "bench-mass-ref: posix_spawn %s: %s\n", argv[0], std::strerror(rc));
    return -1;
  }
  return pid;
}

} // namespace

int main(int argc, char** argv) {
  if ((argc != 4 && argc != 5) || std::atol(argv[1]) <= 0) {
    std::fputs("usage: bench-mass-ref N APP FIFO [EXTRA_FDS]\n", stderr);
    return 2;
  }
  const long n = std::atol(argv[1]);
  const long extra = argc == 5 ? std::atol(argv[4]) : 0;
  for (long i = 0; i < extra; ++i)
    if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) {
      std::perror("bench-mass-ref: open /dev/null");
      return 1;
    }
  struct sigaction sa {};
  sa.sa_handler = on_stop; // no SA_RESTART: interrupts waitpid
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  char* child_argv[] = {argv[2], argv[3], nullptr};
  std::unordered_set<pid_t> live;
  for (long i = 0; i < n && !stop_requested; ++i) {
    pid_t p = spawn_one(child_argv);
    if (p < 0)
      break;
    live.insert(p);
  }
  int rc = static_cast<long>(live.size()) == n ? 0 : 1;
  while (rc == 0 && !stop_requested) {
    int st = 0;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR)
        continue;
      rc = 1;
      break;
    }
    live.erase(p);
    if (stop_requested)
      break;
    pid_t q = spawn_one(child_argv);
    if (q < 0) {
      rc = 1;
      break;
    }
    live.insert(q);
  }
  for (pid_t p : live) kill(-p, SIGKILL);
  while (!live.empty()) {
    pid_t p = waitpid(-1, nullptr, 0);
    if (p < 0 && errno != EINTR)
      break;
    if (p > 0)
      live.erase(p);
  }
  return rc;
}
