// bench-respawn-driver: times crash -> respawn of a supervised stamp app.
//
//   bench-respawn-driver FIFO RUNS [--label NAME] [--also LABEL FIFO]...
//       [--settle-ms 30] [--timeout-ms 5000] [--start-timeout-ms 15000]
//       [--warmup 0] [--out-dir DIR] [--quiet] [--json]
//   bench-respawn-driver --summarize LABEL FILE... [--json | --tsv]
//
// It starts nothing. It opens each FIFO read-write (so it never sees EOF),
// waits for a stamp line "<pid> <ns>" from a live app, then RUNS times per
// target: sleeps the settle time (so the supervisor counts the app as
// stable), reads CLOCK_REALTIME, SIGKILLs the app, and waits (poll, bounded)
// for the next stamp. latency = stamp - kill time: from the kill to the new
// process's first line of main. The first --warmup kills are not recorded.
//
// With --also, several supervisors (each with its own app and FIFO) are
// measured in one run, kill by kill in alternating order (AB BA AB ...), so
// the noise of a shared machine hits all of them alike. A target that fails
// (no respawn within the timeout) is dropped; the others go on.
//
// Output: every latency in us (unless --quiet), then per target
// median/p90/p99/min/max (or one JSON object per target with --json).
// --out-dir DIR appends latencies to DIR/LABEL.raw (one us value a line) and
// keeps the current app pid in DIR/LABEL.pid (for cleanup). --summarize
// recomputes a summary from .raw files: bench/crash_respawn.sh merges its
// rounds that way. Exit status: 0, or 1 if any target failed.

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace {

struct options {
  long runs = 0;
  long settle_ms = 30;
  long timeout_ms = 5000;
  long start_timeout_ms = 15000;
  long warmup = 0;
  std::string out_dir;
  bool quiet = false;
  bool json = false;
};

int usage() {
  std::fputs(
    "usage: bench-respawn-driver FIFO RUNS [--label NAME] [--also LABEL FIFO]...\n"
    "           [--settle-ms N] [--timeout-ms N] [--start-timeout-ms N] [--warmup N]\n"
    "           [--out-dir DIR] [--quiet] [--json]\n"
    "       bench-respawn-driver --summarize LABEL FILE... [--json | --tsv]\n",
    stderr);
  return 2;
}

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

struct stamp {
  pid_t pid = 0;
  int64_t ns = 0;
};

/// Line reader over the FIFO with a deadline.
class stamp_reader {
public:
  explicit stamp_reader(int fd) : fd_(fd) {}

  /// Next stamp line; false on timeout (timeout_ms < 0: none, = 0: only what
  /// is already there) or error.
  bool next(stamp& out, long timeout_ms) {
    const int64_t deadline = monotonic_ms() + std::max(0L, timeout_ms);
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        long pid = 0;
        long long ns = 0;
        if (std::sscanf(line.c_str(), "%ld %lld", &pid, &ns) == 2 && pid > 0) {
          out.pid = static_cast<pid_t>(pid);
          out.ns = ns;
          return true;
        }
        std::fprintf(stderr, "bench-respawn-driver: ignoring line '%s'\n", line.c_str());
        continue;
      }
      long left = static_cast<long>(deadline - monotonic_ms());
      if (left < 0)
        left = 0;
      pollfd p{fd_, POLLIN, 0};
      int rc = poll(&p, 1, static_cast<int>(left));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc <= 0)
        return false;
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        return false;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

private:
  int fd_;
  std::string buf_;
};

struct summary {
  size_t runs = 0;
  double median = 0, p90 = 0, p99 = 0, min = 0, max = 0, mean = 0; // us
};

/// Nearest-rank percentile of sorted `v` (p in 0..100).
double percentile(const std::vector<double>& v, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::min(std::max<size_t>(rank, 1), v.size());
  return v[rank - 1];
}

summary summarize(std::vector<double> v) {
  summary s;
  s.runs = v.size();
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.p90 = percentile(v, 90);
  s.p99 = percentile(v, 99);
  s.min = v.front();
  s.max = v.back();
  double sum = 0;
  for (double x : v)
    sum += x;
  s.mean = sum / static_cast<double>(n);
  return s;
}

void print_summary(const std::string& label, const summary& s, bool json, bool tsv,
                   const std::vector<double>* all) {
  if (json) {
    std::printf("{\"label\":\"%s\",\"runs\":%zu,\"median_us\":%.1f,\"p90_us\":%.1f,"
                "\"p99_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f",
                label.c_str(), s.runs, s.median, s.p90, s.p99, s.min, s.max, s.mean);
    if (all != nullptr) {
      std::printf(",\"latencies_us\":[");
      for (size_t i = 0; i < all->size(); ++i)
        std::printf("%s%.1f", i ? "," : "", (*all)[i]);
      std::printf("]");
    }
    std::printf("}\n");
  } else if (tsv) {
    // label runs median_ms p90_ms p99_ms min_ms max_ms
    std::printf("%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", label.c_str(), s.runs,
                s.median / 1000, s.p90 / 1000, s.p99 / 1000, s.min / 1000, s.max / 1000);
  } else {
    std::printf("%s: runs=%zu median=%.3f ms p90=%.3f ms p99=%.3f ms min=%.3f ms "
                "max=%.3f ms\n",
                label.c_str(), s.runs, s.median / 1000, s.p90 / 1000, s.p99 / 1000,
                s.min / 1000, s.max / 1000);
  }
  std::fflush(stdout);
}

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty())
    return;
  const std::string tmp = path + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%ld\n", static_cast<long>(pid));
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
  }
}

int run_summarize(int argc, char** argv) {
  // --summarize LABEL FILE... [--json | --tsv]
  if (argc < 4)
    return usage();
  const std::string label = argv[2];
  bool json = false, tsv = false;
  std::vector<double> v;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      json = true;
      continue;
    }
    if (a == "--tsv") {
      tsv = true;
      continue;
    }
    std::ifstream in{a};
    if (!in) {
      std::fprintf(stderr, "bench-respawn-driver: cannot read %s\n", a.c_str());
      return 1;
    }
    for (double x; in >> x;)
      v.push_back(x);
  }
  print_summary(label, summarize(v), json, tsv, nullptr);
  return v.empty() ? 1 : 0;
}

bool parse_long(const char* s, long& out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0)
    return false;
  out = v;
  return true;
}

} // namespace

/// One supervised app: its FIFO, the live instance, what was measured.
struct target {
  std::string label;
  std::string fifo;
  int fd = -1;
  std::unique_ptr<stamp_reader> reader;
  stamp cur;
  std::vector<double> lat;
  FILE* raw = nullptr;
  std::string pid_file;
  long unexpected = 0;
  bool failed = false;

  void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    std::fprintf(stderr, "bench-respawn-driver: %s: FAILED: ", label.c_str());
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
    failed = true;
  }

  bool open_fifo(const options& o) {
    // Read-write: the FIFO never reports EOF between two app instances.
    fd = open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      fail("open %s: %s", fifo.c_str(), std::strerror(errno));
      return false;
    }
    reader = std::make_unique<stamp_reader>(fd);
    if (!o.out_dir.empty()) {
      const std::string raw_path = o.out_dir + "/" + label + ".raw";
      raw = std::fopen(raw_path.c_str(), "a");
      if (raw == nullptr) {
        fail("open %s: %s", raw_path.c_str(), std::strerror(errno));
        return false;
      }
      pid_file = o.out_dir + "/" + label + ".pid";
    }
    return true;
  }

  /// The first live app; lines left over from an earlier round name dead pids.
  bool first_stamp(int64_t deadline_ms, long timeout_ms) {
    for (;;) {
      long left = static_cast<long>(deadline_ms - monotonic_ms());
      if (!reader->next(cur, left)) {
        fail("no stamp from a live app within %ld ms", timeout_ms);
        return false;
      }
      if (kill(cur.pid, 0) == 0) {
        write_pid_file(pid_file, cur.pid);
        return true;
      }
    }
  }

  /// One kill -> respawn; returns the latency in us, or < 0 on failure.
  double measure(const options& o) {
    // An app that restarted on its own since the last stamp: follow it.
    for (stamp extra; reader->next(extra, 0);) {
      ++unexpected;
      cur = extra;
    }
    const pid_t victim = cur.pid;
    const int64_t t_kill = now_ns();
    if (kill(victim, SIGKILL) != 0) {
      fail("kill %ld: %s", static_cast<long>(victim), std::strerror(errno));
      return -1;
    }
    stamp next;
    bool got = false;
    while ((got = reader->next(next, o.timeout_ms)) && next.pid == victim) {
    }
    if (!got) {
      fail("no respawn within %ld ms after killing %ld", o.timeout_ms,
           static_cast<long>(victim));
      return -1;
    }
    cur = next;
    write_pid_file(pid_file, cur.pid);
    return static_cast<double>(next.ns - t_kill) / 1000.0;
  }

  ~target() {
    if (raw != nullptr)
      std::fclose(raw);
    if (fd >= 0)
      close(fd);
  }
};

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--summarize") == 0)
    return run_summarize(argc, argv);
  if (argc < 3)
    return usage();
  options o;
  std::vector<std::unique_ptr<target>> targets;
  targets.push_back(std::make_unique<target>());
  targets[0]->label = "target";
  targets[0]->fifo = argv[1];
  if (!parse_long(argv[2], o.runs) || o.runs <= 0)
    return usage();
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](long& out) {
      return i + 1 < argc && parse_long(argv[++i], out);
    };
    auto text = [&](std::string& out) {
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    bool ok = true;
    if (a == "--settle-ms")
      ok = value(o.settle_ms);
    else if (a == "--timeout-ms")
      ok = value(o.timeout_ms);
    else if (a == "--start-timeout-ms")
      ok = value(o.start_timeout_ms);
    else if (a == "--warmup")
      ok = value(o.warmup);
    else if (a == "--label")
      ok = text(targets[0]->label);
    else if (a == "--also") {
      auto t = std::make_unique<target>();
      ok = text(t->label) && text(t->fifo);
      targets.push_back(std::move(t));
    } else if (a == "--out-dir")
      ok = text(o.out_dir);
    else if (a == "--quiet")
      o.quiet = true;
    else if (a == "--json")
      o.json = true;
    else
      ok = false;
    if (!ok)
      return usage();
  }

  const int64_t start_deadline = monotonic_ms() + o.start_timeout_ms;
  for (auto& t : targets)
    if (t->open_fifo(o))
      t->first_stamp(start_deadline, o.start_timeout_ms);

  for (auto& t : targets)
    t->lat.reserve(static_cast<size_t>(o.runs));
  const size_t n = targets.size();
  for (long run = 1 - o.warmup; run <= o.runs; ++run) {
    for (size_t k = 0; k < n; ++k) {
      // AB, BA, AB, ...: neither target always goes first.
      target& t = *targets[(run & 1) ? k : n - 1 - k];
      if (t.failed)
        continue;
      sleep_ms(o.settle_ms);
      const double us = t.measure(o);
      if (us < 0 || run <= 0)
        continue; // failed, or a warm-up kill (not recorded)
      t.lat.push_back(us);
      if (t.raw != nullptr)
        std::fprintf(t.raw, "%.1f\n", us);
      if (!o.quiet && !o.json)
        std::printf("%s %.1f\n", t.label.c_str(), us);
    }
    bool any = false;
    for (auto& t : targets)
      any = any || !t->failed;
    if (!any)
      break;
  }

  int status = 0;
  for (auto& t : targets) {
    if (t->unexpected > 0)
      std::fprintf(stderr, "bench-respawn-driver: %s: %ld unexpected restarts while settling\n",
                   t->label.c_str(), t->unexpected);
    if (t->failed)
      status = 1;
    print_summary(t->label, summarize(t->lat), o.json, false, o.json ? &t->lat : nullptr);
  }
  return status;
}
