// bench-http-probe: the small tools the HTTP bench scripts need.
//
//   kill-poll PID HOST:PORT [--path P] [--interval-us N] [--timeout-ms N]
//       SIGKILL PID (through a pidfd: no pid-reuse race), wait until it is
//       dead, then GET HOST:PORT/P on a new connection every N µs (default
//       1000, counted from each attempt's start) until a 200. Prints one JSON
//       line: {"dead_us","first_ok_us","attempts","last_failure"} (µs from
//       just before the kill). Exit 0, or 1 if no 200 within --timeout-ms.
//   wait-200 HOST:PORT [--path P] [--timeout-ms N]
//       Polls (every 2 ms) until a 200: exit 0, else 1.
//   instances        reads `arbor status --json` on stdin and prints one
//                    line per instance: id, index, state, pid, uptime_ms, restarts,
//                    last_exit (tab-separated)
//   stats [--scale X]  reads numbers (one per line) on stdin and prints
//                    {"n","median","p90","p99","min","max"} (values × X)

#include "http_client.hpp"
#include "stats.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

using namespace bench_http;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

int usage() {
  std::fputs("usage: bench-http-probe kill-poll PID HOST:PORT [--path P] [--interval-us N] [--timeout-ms N]\n"
             "       bench-http-probe wait-200 HOST:PORT [--path P] [--timeout-ms N]\n"
             "       bench-http-probe instances < status.json\n"
             "       bench-http-probe stats [--scale X] < numbers\n",
             stderr);
  return 2;
}

struct poll_opts {
  std::string path = "/health";
  long interval_us = 1000;
  long timeout_ms = 10000;
  double scale = 1.0;
};

bool parse_opts(int argc, char** argv, int from, poll_opts& o) {
  for (int i = from; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const char* v = argv[++i];
    char* end = nullptr;
    if (a == "--path") o.path = v;
    else if (a == "--interval-us") o.interval_us = std::strtol(v, &end, 10);
    else if (a == "--timeout-ms") o.timeout_ms = std::strtol(v, &end, 10);
    else if (a == "--scale") o.scale = std::strtod(v, &end);
    else return false;
    if (end && *end != '\0') return false;
  }
  return o.interval_us >= 0 && o.timeout_ms > 0;
}

/// GETs until a 200 or `deadline`. Returns the time of the 200 (or nullopt).
bool poll_until_ok(const sockaddr_in& to, const poll_opts& o, clock_type::time_point deadline,
                   clock_type::time_point& ok_at, long& attempts, outcome& last) {
  last = outcome::ok;
  while (clock_type::now() < deadline) {
    auto start = clock_type::now();
    ++attempts;
    last = get_once(to, o.path, std::min(deadline, start + milliseconds(200)));
    if (last == outcome::ok) {
      ok_at = clock_type::now();
      return true;
    }
    auto next = start + microseconds(o.interval_us);
    if (next > clock_type::now()) std::this_thread::sleep_until(next);
  }
  return false;
}

int kill_poll(int argc, char** argv) {
  if (argc < 4) return usage();
  pid_t pid = static_cast<pid_t>(std::atol(argv[2]));
  sockaddr_in to{};
  poll_opts o;
  if (pid <= 1 || !parse_ipv4_endpoint(argv[3], to) || !parse_opts(argc, argv, 4, o)) return usage();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    std::fprintf(stderr, "bench-http-probe: pidfd_open(%d): %s\n", pid, std::strerror(errno));
    return 1;
  }
  auto t0 = clock_type::now();
  if (::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) != 0) {
    std::fprintf(stderr, "bench-http-probe: kill(%d): %s\n", pid, std::strerror(errno));
    return 1;
  }
  auto deadline = t0 + milliseconds(o.timeout_ms);
  pollfd p{pidfd, POLLIN, 0};
  while (::poll(&p, 1, static_cast<int>(o.timeout_ms)) < 0 && errno == EINTR) {}
  auto dead_at = clock_type::now();
  ::close(pidfd);
  clock_type::time_point ok_at;
  long attempts = 0;
  outcome last;
  bool ok = poll_until_ok(to, o, deadline, ok_at, attempts, last);
  auto us = [&](clock_type::time_point t) { return duration_cast<microseconds>(t - t0).count(); };
  nlohmann::json j{{"pid", pid}, {"dead_us", us(dead_at)}, {"attempts", attempts}};
  j["first_ok_us"] = ok ? nlohmann::json(us(ok_at)) : nlohmann::json(nullptr);
  if (!ok) j["last_failure"] = outcome_name(last);
  std::cout << j.dump() << std::endl;
  return ok ? 0 : 1;
}

int wait_200(int argc, char** argv) {
  sockaddr_in to{};
  poll_opts o;
  o.interval_us = 2000;
  if (argc < 3 || !parse_ipv4_endpoint(argv[2], to) || !parse_opts(argc, argv, 3, o)) return usage();
  clock_type::time_point ok_at;
  long attempts = 0;
  outcome last;
  if (poll_until_ok(to, o, clock_type::now() + milliseconds(o.timeout_ms), ok_at, attempts, last))
    return 0;
  std::fprintf(stderr, "bench-http-probe: no 200 from %s%s within %ld ms (last: %s)\n", argv[2],
               o.path.c_str(), o.timeout_ms, outcome_name(last));
  return 1;
}

int instances() {
  nlohmann::json j;
  try {
    std::cin >> j;
    for (const auto& i : j.at("instances")) {
      auto text = [&](const char* key) {
        return i.contains(key) && i[key].is_string() ? i[key].get<std::string>() : std::string{};
      };
      auto num = [&](const char* key) {
        return i.contains(key) && i[key].is_number() ? i[key].get<int64_t>() : int64_t{0};
      };
      std::cout << text("id") << '\t' << num("index") << '\t' << text("state") << '\t' << num("pid")
                << '\t' << num("uptime_ms") << '\t' << num("restarts") << '\t' << text("last_exit")
                << '\n';
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-http-probe instances: %s\n", e.what());
    return 1;
  }
  return 0;
}

int stats(int argc, char** argv) {
  poll_opts o;
  if (!parse_opts(argc, argv, 2, o)) return usage();
  std::vector<double> v;
  double x;
  while (std::cin >> x) v.push_back(x);
  std::cout << summary(v, o.scale).dump() << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  if (cmd == "kill-poll") return kill_poll(argc, argv);
  if (cmd == "wait-200") return wait_200(argc, argv);
  if (cmd == "instances") return instances();
  if (cmd == "stats") return stats(argc, argv);
  return usage();
}
