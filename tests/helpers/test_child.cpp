// arbor-test-child: one small program the tests start and supervise.
// Plain C++/POSIX, no libraries. The mode is argv[1]; see usage() below.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char** environ;

namespace {

int usage() {
  std::fputs(
    "usage: arbor-test-child MODE [ARGS]\n"
    "  exit N                 exit N at once\n"
    "  sleep [MS]             sleep MS ms (default: forever), then exit 0\n"
    "  run-for MS CODE        sleep MS ms, then exit CODE\n"
    "  crash                  die of SIGSEGV\n"
    "  ignore-term            ignore SIGTERM/SIGINT, print \"ready\", pause\n"
    "  grandchild PIDFILE [exit]\n"
    "                         fork a child in the same process group, write its\n"
    "                         pid to PIDFILE, then pause (or exit 0 with 'exit')\n"
    "  print TEXT             TEXT to stdout, \"err: TEXT\" to stderr, pause\n"
    "  tick [MS]              \"tick N\" (N = 0, 1, ...) to stdout every MS ms (1)\n"
    "  env                    print the environment, exit 0\n"
    "  pwd                    print the working directory, exit 0\n"
    "  fds                    print the open descriptors, exit 0\n"
    "  sigstate               print SigBlk/SigIgn of /proc/self/status, exit 0\n"
    "  pgid                   print \"pid=P pgid=G\", exit 0\n"
    "  stamp FIFO             write \"<pid> <CLOCK_REALTIME ns>\\n\" to FIFO, pause\n"
    "  alloc MB               allocate MB MiB and touch every page, print \"ready\",\n"
    "                         pause\n"
    "  tree N MB              fork N children (same process group) that each\n"
    "                         allocate and touch MB MiB and pause; print \"ready\"\n"
    "                         once all of them are, then pause\n"
    "  spin                   burn CPU in a loop forever\n"
    "  storm SHORT_MS LONG_MS live a random 0..SHORT_MS ms (one run in four:\n"
    "                         LONG_MS), then exit 1\n"
    "  numbered BATCH US      \"<pid> <seq>\" lines (seq from 1), BATCH lines per\n"
    "                         write every US us; on SIGTERM \"END <pid> <last seq>\",\n"
    "                         exit 0\n",
    stderr);
  return 2;
}

[[noreturn]] void pause_forever() {
  for (;;)
    pause();
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

bool write_all(int fd, const std::string& s) {
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

long to_long(const char* s) {
  return std::strtol(s, nullptr, 10);
}

int mode_stamp(const timespec& t0, int argc, char** argv) {
  if (argc < 3)
    return usage();
  int fd = open(argv[2], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "stamp: open %s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  char line[64];
  int len = std::snprintf(line, sizeof line, "%ld %lld\n", static_cast<long>(getpid()),
                          static_cast<long long>(t0.tv_sec) * 1000000000LL + t0.tv_nsec);
  // One write below PIPE_BUF is atomic: readers never see half a line.
  if (write(fd, line, static_cast<size_t>(len)) != len)
    std::fprintf(stderr, "stamp: write: %s\n", std::strerror(errno));
  close(fd);
  pause_forever();
}

int mode_grandchild(int argc, char** argv) {
  if (argc < 3)
    return usage();
  const std::string pidfile = argv[2];
  const bool exit_at_once = argc >= 4 && std::strcmp(argv[3], "exit") == 0;
  pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0)
    pause_forever(); // same process group as the parent
  const std::string tmp = pidfile + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || !write_all(fd, std::to_string(child) + "\n") || close(fd) != 0
      || rename(tmp.c_str(), pidfile.c_str()) != 0) {
    std::perror("grandchild: pidfile");
    kill(child, SIGKILL);
    return 1;
  }
  if (exit_at_once)
    return 0;
  pause_forever();
}

// Where touched memory is kept: a store through a volatile pointer the
// compiler cannot prove unread, so the allocation and memset stay.
char* volatile kept_memory = nullptr;

/// Allocates `mb` MiB and writes every byte, so all of it is resident.
bool touch_mib(long mb) {
  if (mb < 0)
    return false;
  const size_t bytes = static_cast<size_t>(mb) << 20;
  char* p = static_cast<char*>(std::malloc(bytes > 0 ? bytes : 1));
  if (p == nullptr)
    return false;
  std::memset(p, 0x5a, bytes);
  kept_memory = p;
  return true;
}

int mode_alloc(int argc, char** argv) {
  if (argc < 3)
    return usage();
  if (!touch_mib(to_long(argv[2]))) {
    std::fprintf(stderr, "alloc: cannot allocate %s MiB\n", argv[2]);
    return 1;
  }
  write_all(STDOUT_FILENO, "ready\n");
  pause_forever();
}

int mode_tree(int argc, char** argv) {
  if (argc < 4)
    return usage();
  const long n = to_long(argv[2]);
  const long mb = to_long(argv[3]);
  int ready[2];
  if (n < 0 || pipe2(ready, O_CLOEXEC) != 0) {
    std::perror("tree: pipe");
    return 1;
  }
  const pid_t parent = getpid();
  std::vector<pid_t> children;
  auto fail = [&](const char* what) {
    std::perror(what);
    for (pid_t c : children)
      kill(c, SIGKILL);
    return 1;
  };
  for (long i = 0; i < n; ++i) {
    pid_t child = fork();
    if (child < 0)
      return fail("tree: fork");
    if (child == 0) {
      // Same process group as the parent; die with it whatever kills it.
      close(ready[0]);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent || !touch_mib(mb))
        _exit(1);
      write_all(ready[1], "x"); // one byte: "I am ready"
      close(ready[1]);
      pause_forever();
    }
    children.push_back(child);
  }
  close(ready[1]);
  for (long got = 0; got < n;) {
    char buf[64];
    ssize_t r = read(ready[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) { // EOF: a child died before it was ready
      errno = r == 0 ? ECHILD : errno;
      return fail("tree: a child failed");
    }
    got += r;
  }
  close(ready[0]);
  write_all(STDOUT_FILENO, "ready\n");
  pause_forever();
}

[[noreturn]] void mode_spin() {
  volatile unsigned long counter = 0;
  for (;;)
    counter = counter + 1;
}

int mode_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    std::perror("opendir /proc/self/fd");
    return 1;
  }
  const int self = dirfd(dir);
  std::vector<long> fds;
  while (dirent* ent = readdir(dir)) {
    if (ent->d_name[0] == '.')
      continue;
    long fd = to_long(ent->d_name);
    if (fd != self)
      fds.push_back(fd);
  }
  closedir(dir);
  std::string out;
  for (size_t i = 0; i < fds.size(); ++i) {
    // readdir order is ascending for /proc/self/fd, but do not rely on it.
    for (size_t j = i + 1; j < fds.size(); ++j)
      if (fds[j] < fds[i])
        std::swap(fds[i], fds[j]);
    if (i > 0)
      out += ' ';
    out += std::to_string(fds[i]);
  }
  out += '\n';
  return write_all(STDOUT_FILENO, out) ? 0 : 1;
}

int mode_sigstate() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) {
    std::perror("/proc/self/status");
    return 1;
  }
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, "SigBlk:", 7) == 0 || std::strncmp(line, "SigIgn:", 7) == 0)
      std::fputs(line, stdout);
  std::fclose(f);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int mode_storm(int argc, char** argv) {
  if (argc < 4)
    return usage();
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::srand(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(now.tv_nsec));
  const long shortest = to_long(argv[2]);
  sleep_ms(std::rand() % 4 == 0 ? to_long(argv[3]) : std::rand() % (shortest + 1));
  return 1;
}

volatile sig_atomic_t term_asked = 0;

/// Numbered lines for the kill harness (tests/kill/): each write holds whole
/// lines and stays under PIPE_BUF, so a pipe never holds half a line.
int mode_numbered(int argc, char** argv) {
  if (argc < 4)
    return usage();
  const long batch = std::max(1L, std::min(to_long(argv[2]), 100L));
  const long period_us = to_long(argv[3]);
  struct sigaction sa {};
  sa.sa_handler = [](int) { term_asked = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  const std::string pid = std::to_string(getpid());
  unsigned long seq = 0;
  while (!term_asked) {
    std::string chunk;
    for (long i = 0; i < batch; ++i)
      chunk += pid + " " + std::to_string(++seq) + "\n";
    if (!write_all(STDOUT_FILENO, chunk))
      return 1;
    timespec t{period_us / 1000000, (period_us % 1000000) * 1000L};
    nanosleep(&t, nullptr); // EINTR on SIGTERM: the loop looks at the flag
  }
  return write_all(STDOUT_FILENO, "END " + pid + " " + std::to_string(seq) + "\n") ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  // First thing, for `stamp`: the time this process reached main.
  timespec t0;
  clock_gettime(CLOCK_REALTIME, &t0);

  if (argc < 2)
    return usage();
  const std::string mode = argv[1];

  if (mode == "stamp")
    return mode_stamp(t0, argc, argv);
  if (mode == "exit")
    return argc >= 3 ? static_cast<int>(to_long(argv[2])) : usage();
  if (mode == "sleep") {
    if (argc < 3)
      pause_forever();
    sleep_ms(to_long(argv[2]));
    return 0;
  }
  if (mode == "run-for") {
    if (argc < 4)
      return usage();
    sleep_ms(to_long(argv[2]));
    return static_cast<int>(to_long(argv[3]));
  }
  if (mode == "crash") {
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
    return 1; // not reached
  }
  if (mode == "ignore-term") {
    std::signal(SIGTERM, SIG_IGN);
    std::signal(SIGINT, SIG_IGN);
    write_all(STDOUT_FILENO, "ready\n");
    pause_forever();
  }
  if (mode == "grandchild")
    return mode_grandchild(argc, argv);
  if (mode == "tick") {
    // "tick N" lines on stdout, one write each, every MS milliseconds.
    int ms = argc > 2 ? std::atoi(argv[2]) : 1;
    for (unsigned long n = 0;; ++n) {
      write_all(STDOUT_FILENO, "tick " + std::to_string(n) + "\n");
      timespec t{ms / 1000, (ms % 1000) * 1000000L};
      ::nanosleep(&t, nullptr);
    }
  }
  if (mode == "print") {
    if (argc < 3)
      return usage();
    write_all(STDOUT_FILENO, std::string(argv[2]) + "\n");
    write_all(STDERR_FILENO, std::string("err: ") + argv[2] + "\n");
    pause_forever();
  }
  if (mode == "env") {
    std::string out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      out += *e;
      out += '\n';
    }
    return write_all(STDOUT_FILENO, out) ? 0 : 1;
  }
  if (mode == "pwd") {
    char buf[4096];
    if (getcwd(buf, sizeof buf) == nullptr) {
      std::perror("getcwd");
      return 1;
    }
    return write_all(STDOUT_FILENO, std::string(buf) + "\n") ? 0 : 1;
  }
  if (mode == "fds")
    return mode_fds();
  if (mode == "sigstate")
    return mode_sigstate();
  if (mode == "pgid") {
    const std::string out = "pid=" + std::to_string(getpid())
                            + " pgid=" + std::to_string(getpgid(0)) + "\n";
    return write_all(STDOUT_FILENO, out) ? 0 : 1;
  }
  if (mode == "alloc")
    return mode_alloc(argc, argv);
  if (mode == "tree")
    return mode_tree(argc, argv);
  if (mode == "spin")
    mode_spin();
  if (mode == "storm")
    return mode_storm(argc, argv);
  if (mode == "numbered")
    return mode_numbered(argc, argv);
  std::fprintf(stderr, "arbor-test-child: unknown mode '%s'\n", mode.c_str());
  return usage();
}
