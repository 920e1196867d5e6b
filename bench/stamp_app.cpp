// bench-stamp-app FIFO: the app the crash -> respawn bench supervises.
//
// First thing in main it reads CLOCK_REALTIME, then writes "<pid> <ns>\n" to
// the FIFO (argv[1], or $ARBOR_STAMP_FIFO) in one write and pauses until it
// is killed. The driver subtracts its own kill time from <ns>.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  timespec t0;
  clock_gettime(CLOCK_REALTIME, &t0);

  const char* fifo = argc > 1 ? argv[1] : std::getenv("ARBOR_STAMP_FIFO");
  if (fifo == nullptr || *fifo == '\0') {
    std::fputs("usage: bench-stamp-app FIFO (or ARBOR_STAMP_FIFO=FIFO)\n", stderr);
    return 2;
  }
  // Non-blocking: with no reader the open fails (ENXIO) instead of hanging.
  int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "bench-stamp-app: open %s: %s\n", fifo, std::strerror(errno));
    return 1;
  }
  char line[64];
  int len = std::snprintf(line, sizeof line, "%ld %lld\n", static_cast<long>(getpid()),
                          static_cast<long long>(t0.tv_sec) * 1000000000LL + t0.tv_nsec);
  // One write below PIPE_BUF is atomic: the reader never sees half a line.
  if (write(fd, line, static_cast<size_t>(len)) != len) {
    std::fprintf(stderr, "bench-stamp-app: write: %s\n", std::strerror(errno));
    return 1;
  }
  close(fd);
  for (;;)
    pause();
}
