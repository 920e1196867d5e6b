// bench-cmd-timer RUNS CMD ARGS...: runs a command RUNS times (stdout and
// stderr to /dev/null) and prints the wall time of each run end to end
// (posix_spawn → exit reaped), then median / p90 / p99 / min / max in ms.
// Exits 1 if any run fails.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

static double now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double pct(const std::vector<double>& v, double p) {
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench-cmd-timer RUNS CMD [ARGS...]\n");
    return 2;
  }
  int runs = std::atoi(argv[1]);
  std::vector<double> ms;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  for (int i = 0; i < runs; ++i) {
    double t0 = now_ms();
    pid_t pid;
    if (posix_spawn(&pid, argv[2], &fa, nullptr, argv + 2, environ) != 0) {
      std::perror("posix_spawn");
      return 1;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double t1 = now_ms();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "run %d failed (status %d)\n", i, status);
      return 1;
    }
    ms.push_back(t1 - t0);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("runs=%d median_ms=%.3f p90_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f\n", runs,
              pct(ms, 0.5), pct(ms, 0.9), pct(ms, 0.99), ms.front(), ms.back());
  return 0;
}
