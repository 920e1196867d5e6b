// bench-ref-loop APP FIFO: the floor for crash -> respawn on this machine.
//
// Does nothing but posix_spawn APP FIFO (with the attributes arbor uses: own
// process group, empty signal mask, default dispositions, stdin /dev/null,
// descriptors >= 3 closed), waitpid for it, and spawn it again, forever.
// SIGTERM/SIGINT: kill the child's group, reap it, exit 0.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

volatile sig_atomic_t stop_requested = 0;
volatile sig_atomic_t current_child = 0;

void on_stop(int) {
  stop_requested = 1;
  pid_t child = current_child;
  if (child > 1)
    kill(-child, SIGKILL); // async-signal-safe; wakes the waitpid below
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: bench-ref-loop APP FIFO\n", stderr);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  char* child_argv[] = {argv[1], argv[2], nullptr};
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);

  bool warned = false;
  while (!stop_requested) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                      | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    // Block SIGTERM across spawn + publish so the handler never misses the
    // pid of a child that already exists.
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, &old);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[1], &fa, &attr, child_argv, environ);
    if (rc == 0)
      current_child = pid;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      std::fprintf(stderr, "bench-ref-loop: posix_spawn %s: %s\n", argv[1], std::strerror(rc));
      return 1;
    }

    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    current_child = 0;
    if (!stop_requested && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      // The app failed on its own (e.g. no FIFO reader): say so once, and do
      // not spin. Never taken on the measured path (the app is SIGKILLed).
      if (!warned)
        std::fprintf(stderr, "bench-ref-loop: %s exited %d\n", argv[1], WEXITSTATUS(status));
      warned = true;
      usleep(10000);
    }
  }
  return 0;
}
