// bench-flood-app [LINE_BYTES] [CHUNK_BYTES]: writes lines to stdout as fast
// as it can, forever (bench/log_throughput.sh).
//
// Lines are LINE_BYTES long including the newline (default 100), written in
// chunks of CHUNK_BYTES (default 65536, rounded down to whole lines). A write
// blocks while its pipe is full, so the rate is what the reader (arbor's log
// pump) drains. Exits 0 on EPIPE or SIGTERM, 1 on any other write error.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

int main(int argc, char** argv) {
  long line = argc > 1 ? std::atol(argv[1]) : 100;
  long chunk = argc > 2 ? std::atol(argv[2]) : 65536;
  if (line < 2 || line > 16384 || chunk < line) {
    std::fputs("usage: bench-flood-app [LINE_BYTES 2..16384] [CHUNK_BYTES >= LINE_BYTES]\n",
               stderr);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::string buf;
  const long lines = chunk / line;
  for (long i = 0; i < lines; ++i) {
    std::string l = "flood " + std::to_string(i) + " ";
    l.resize(static_cast<size_t>(line - 1), 'x');
    buf += l;
    buf += '\n';
  }
  const char* p = buf.data();
  const size_t n = buf.size();
  for (;;) {
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(STDOUT_FILENO, p + off, n - off);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        return errno == EPIPE ? 0 : 1;
      }
      off += static_cast<size_t>(w);
    }
  }
}
