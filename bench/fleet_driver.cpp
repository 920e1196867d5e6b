// bench-fleet-driver: start and mass-kill timing for many supervised stamp
// apps sharing one FIFO (bench/scale.sh).
//
//   bench-fleet-driver wait FIFO N --out PIDS [--t0-ns NS] [--timeout-ms 60000]
//   bench-fleet-driver kill FIFO PIDS --out NEWPIDS [--timeout-ms 30000]
//
// Every instance is a bench-stamp-app writing "<pid> <ns>\n" (CLOCK_REALTIME
// at the first line of main) to FIFO. The caller keeps FIFO open read-write
// for the whole run, so the apps' non-blocking opens never fail and stamps
// wait in the pipe between two invocations.
//
// wait: reads stamps until N distinct live pids are known (bounded), writes
//   them to PIDS (one a line) and prints one JSON object: n, and with
//   --t0-ns (when the supervisor was launched) first_ms/last_ms, the time
//   from t0 to the first and the last stamp.
// kill: reads the pids in PIDS, SIGKILLs all of them in one tight loop, then
//   reads stamps until as many new pids (stamped after the kill) arrived, or the
//   timeout. Writes the new pids to NEWPIDS and prints JSON: n, recovered,
//   kill_loop_ms (first kill to last kill), all_ms (first kill to the last new
//   stamp), median_ms / p99_ms over the per-instance times, unexpected
//   (stamps that arrived before the kill: something restarted on its own).
// Exit status: 0; 1 when not every instance came (back) in time; 2 usage.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace {

int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int usage() {
  std::fputs("usage: bench-fleet-driver wait FIFO N --out PIDS [--t0-ns NS] [--timeout-ms MS]\n"
             "       bench-fleet-driver kill FIFO PIDS --out NEWPIDS [--timeout-ms MS]\n",
             stderr);
  return 2;
}

struct stamp {
  pid_t pid = 0;
  int64_t ns = 0;
};

/// Stamp lines from the FIFO; next() is bounded by an absolute deadline.
class reader {
public:
  explicit reader(int fd) : fd_(fd) {}

  /// false at the deadline (deadline_ms <= now: only what is there already).
  bool next(stamp& out, int64_t deadline_ms) {
    for (;;) {
      auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        long pid = 0;
        long long ns = 0;
        bool ok = std::sscanf(buf_.c_str() + pos_, "%ld %lld", &pid, &ns) == 2 && pid > 0;
        pos_ = nl + 1;
        if (pos_ > 65536) {
          buf_.erase(0, pos_);
          pos_ = 0;
        }
        if (!ok)
          continue;
        out.pid = static_cast<pid_t>(pid);
        out.ns = ns;
        return true;
      }
      int64_t left = std::max<int64_t>(0, deadline_ms - monotonic_ms());
      pollfd p{fd_, POLLIN, 0};
      int rc = poll(&p, 1, static_cast<int>(left));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc <= 0)
        return false;
      char chunk[16384];
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
  size_t pos_ = 0;
};

bool alive(pid_t pid) {
  return kill(pid, 0) == 0;
}

bool write_pids(const std::string& path, const std::vector<pid_t>& pids) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr)
    return false;
  for (pid_t p : pids) std::fprintf(f, "%ld\n", static_cast<long>(p));
  bool ok = std::fclose(f) == 0;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::min(std::max<size_t>(rank, 1), v.size());
  return v[rank - 1];
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct args {
  std::string mode, fifo, third, out;
  long long t0_ns = 0;
  long timeout_ms = -1;
};

int run_wait(const args& a, reader& r) {
  long n = std::atol(a.third.c_str());
  if (n <= 0)
    return usage();
  const int64_t deadline = monotonic_ms() + (a.timeout_ms < 0 ? 60000 : a.timeout_ms);
  std::unordered_set<pid_t> seen;
  std::vector<pid_t> pids;
  int64_t first = 0, last = 0;
  stamp s;
  while (static_cast<long>(pids.size()) < n && r.next(s, deadline)) {
    if (!alive(s.pid) || !seen.insert(s.pid).second)
      continue; // a line left by an instance that is gone already
    pids.push_back(s.pid);
    if (first == 0 || s.ns < first)
      first = s.ns;
    last = std::max(last, s.ns);
  }
  if (!write_pids(a.out, pids)) {
    std::fprintf(stderr, "bench-fleet-driver: cannot write %s\n", a.out.c_str());
    return 1;
  }
  std::printf("{\"n\":%zu,\"expected\":%ld", pids.size(), n);
  if (a.t0_ns > 0 && !pids.empty())
    std::printf(",\"first_ms\":%.3f,\"last_ms\":%.3f", (first - a.t0_ns) / 1e6,
                (last - a.t0_ns) / 1e6);
  std::printf("}\n");
  if (static_cast<long>(pids.size()) < n) {
    std::fprintf(stderr, "bench-fleet-driver: only %zu of %ld instances stamped in time\n",
                 pids.size(), n);
    return 1;
  }
  return 0;
}

int run_kill(const args& a, reader& r) {
  std::vector<pid_t> old;
  {
    std::ifstream in{a.third};
    for (long p; in >> p;) old.push_back(static_cast<pid_t>(p));
  }
  if (old.empty()) {
    std::fprintf(stderr, "bench-fleet-driver: no pids in %s\n", a.third.c_str());
    return 1;
  }
  // Stamps already waiting: instances that restarted on their own.
  long unexpected = 0;
  for (stamp s; r.next(s, 0);) ++unexpected;

  const int64_t t_kill = realtime_ns();
  long kill_errors = 0;
  for (pid_t p : old)
    if (kill(p, SIGKILL) != 0)
      ++kill_errors;
  const int64_t t_killed = realtime_ns();

  const int64_t deadline = monotonic_ms() + (a.timeout_ms < 0 ? 30000 : a.timeout_ms);
  std::unordered_set<pid_t> seen;
  std::vector<pid_t> fresh;
  std::vector<double> ms;
  stamp s;
  while (fresh.size() < old.size() && r.next(s, deadline)) {
    // By time, not by pid: a pid of the old set may be recycled already.
    if (s.ns < t_kill || !seen.insert(s.pid).second)
      continue;
    fresh.push_back(s.pid);
    ms.push_back((s.ns - t_kill) / 1e6);
  }
  if (!write_pids(a.out, fresh)) {
    std::fprintf(stderr, "bench-fleet-driver: cannot write %s\n", a.out.c_str());
    return 1;
  }
  double all = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
  std::printf("{\"n\":%zu,\"recovered\":%zu,\"kill_errors\":%ld,\"unexpected\":%ld,"
              "\"t_kill_ns\":%lld,\"kill_loop_ms\":%.3f,\"all_ms\":%.3f,\"median_ms\":%.3f,"
              "\"p99_ms\":%.3f}\n",
              old.size(), fresh.size(), kill_errors, unexpected, static_cast<long long>(t_kill),
              (t_killed - t_kill) / 1e6, all, median(ms), percentile(ms, 99));
  if (fresh.size() < old.size()) {
    std::fprintf(stderr, "bench-fleet-driver: only %zu of %zu instances came back in time\n",
                 fresh.size(), old.size());
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4)
    return usage();
  args a;
  a.mode = argv[1];
  a.fifo = argv[2];
  a.third = argv[3];
  for (int i = 4; i < argc; ++i) {
    std::string o = argv[i];
    if (i + 1 >= argc)
      return usage();
    const char* v = argv[++i];
    if (o == "--out")
      a.out = v;
    else if (o == "--t0-ns")
      a.t0_ns = std::atoll(v);
    else if (o == "--timeout-ms")
      a.timeout_ms = std::atol(v);
    else
      return usage();
  }
  if (a.out.empty() || (a.mode != "wait" && a.mode != "kill"))
    return usage();
  // Read-write: never EOF while no instance has it open.
  int fd = open(a.fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "bench-fleet-driver: open %s: %s\n", a.fifo.c_str(),
                 std::strerror(errno));
    return 1;
  }
  reader r{fd};
  int rc = a.mode == "wait" ? run_wait(a, r) : run_kill(a, r);
  close(fd);
  return rc;
}
