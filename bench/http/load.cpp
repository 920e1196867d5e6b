// bench-http-load: N closed-loop connections hammering one HTTP endpoint on
// loopback until a duration, a stop file or SIGTERM/SIGINT; counts requests,
// failures by kind and latency, and prints one JSON object.
//
// Connection modes (per worker): `keepalive` reuses its connection until the
// server says `Connection: close` (what a pooled client or a proxy does: it
// tests that a draining server finishes in-flight requests and closes kept
// connections cleanly); `fresh` opens a new connection per request (tests the
// listener hand-off: SYNs queued on a closing SO_REUSEPORT listener); `mixed`
// (default) alternates them across workers. A failure is any request that did
// not get a complete 200 response, including the keep-alive race that real
// clients retry (`stale_keepalive`, counted apart so it can be told from the
// rest). Nothing is retried.

#include "http_client.hpp"
#include "stats.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace bench_http;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

struct config {
  std::string target = "127.0.0.1:8080";
  std::string path = "/";
  int connections = 8;
  std::string mode = "mixed";
  long duration_ms = 0;           // 0: until stopped
  long max_duration_ms = 600000;  // hard cap, whatever else
  std::string stop_file;
  long timeout_ms = 2000;
  long think_us = 0;
  std::string json_path;
  size_t log_max = 200;
};

struct failure_record {
  double t_ms;
  outcome kind;
  int err;
  int worker;
  bool keepalive;
};

struct worker_result {
  bool keepalive = false;
  uint64_t requests = 0;
  uint64_t connects = 0;
  uint64_t by_kind[outcome_count] = {};
  std::vector<uint32_t> latency_us; // successful requests only
  std::map<long, uint64_t> by_pid;  // from the body "instance I pid P"
  std::vector<failure_record> failures;
};

std::atomic<bool> g_stop{false};

long body_pid(const std::string& body) {
  auto p = body.find(" pid ");
  return p == std::string::npos ? 0 : std::atol(body.c_str() + p + 5);
}

void run_worker(const config& cfg, const sockaddr_in& to, int id, bool keepalive,
                clock_type::time_point t0, worker_result& out) {
  out.keepalive = keepalive;
  out.latency_us.reserve(1 << 16);
  const std::string request = make_get(cfg.target, cfg.path, !keepalive);
  connection conn{to};
  response res;
  while (!g_stop.load(std::memory_order_relaxed)) {
    auto start = clock_type::now();
    auto o = conn.exchange(request, start + milliseconds(cfg.timeout_ms), res);
    auto end = clock_type::now();
    ++out.requests;
    ++out.by_kind[static_cast<int>(o)];
    if (o == outcome::ok) {
      out.latency_us.push_back(static_cast<uint32_t>(duration_cast<microseconds>(end - start).count()));
      ++out.by_pid[body_pid(res.body)];
    } else if (out.failures.size() < cfg.log_max) {
      double t = static_cast<double>(duration_cast<microseconds>(start - t0).count()) / 1000.0;
      out.failures.push_back({t, o, conn.last_errno(), id, keepalive});
    }
    if (!keepalive || res.close || o != outcome::ok) conn.close();
    if (o == outcome::connect_refused || o == outcome::connect_error)
      std::this_thread::sleep_for(milliseconds(1)); // don't spin on a dead port
    if (cfg.think_us > 0) std::this_thread::sleep_for(microseconds(cfg.think_us));
  }
  out.connects = conn.connects();
}

int usage(FILE* f) {
  std::fputs(
    "usage: bench-http-load [--target HOST:PORT] [--path P] [--connections N]\n"
    "         [--mode keepalive|fresh|mixed] [--duration-ms MS] [--max-duration-ms MS]\n"
    "         [--stop-file PATH] [--timeout-ms MS] [--think-us US] [--json PATH]\n"
    "Runs until --duration-ms (0: no limit), the stop file exists, or SIGTERM/SIGINT;\n"
    "never longer than --max-duration-ms (600000). Prints JSON (to --json PATH if given).\n",
    f);
  return f == stdout ? 0 : 2;
}

int parse(int argc, char** argv, config& c) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(stdout);
    if (i + 1 >= argc) return usage(stderr);
    std::string v = argv[++i];
    auto num = [&](long& out, long lo) {
      char* end = nullptr;
      out = std::strtol(v.c_str(), &end, 10);
      return *end == '\0' && out >= lo;
    };
    long n = 0;
    bool ok = true;
    if (a == "--target") c.target = v;
    else if (a == "--path") c.path = v;
    else if (a == "--connections") { ok = num(n, 1) && n <= 4096; c.connections = static_cast<int>(n); }
    else if (a == "--mode") { c.mode = v; ok = v == "keepalive" || v == "fresh" || v == "mixed"; }
    else if (a == "--duration-ms") ok = num(c.duration_ms, 0);
    else if (a == "--max-duration-ms") ok = num(c.max_duration_ms, 1);
    else if (a == "--stop-file") c.stop_file = v;
    else if (a == "--timeout-ms") ok = num(c.timeout_ms, 1);
    else if (a == "--think-us") ok = num(c.think_us, 0);
    else if (a == "--json") c.json_path = v;
    else return usage(stderr);
    if (!ok) {
      std::fprintf(stderr, "bench-http-load: bad value for %s: '%s'\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  return -1;
}

nlohmann::json report(const config& cfg, std::vector<worker_result>& results, double secs) {
  nlohmann::json j;
  j["target"] = cfg.target;
  j["path"] = cfg.path;
  j["mode"] = cfg.mode;
  j["connections"] = cfg.connections;
  j["timeout_ms"] = cfg.timeout_ms;
  j["duration_s"] = std::round(secs * 1000.0) / 1000.0;
  uint64_t total = 0, kinds[outcome_count] = {};
  std::vector<uint32_t> lat;
  std::map<long, uint64_t> pids;
  std::vector<failure_record> log;
  nlohmann::json modes = nlohmann::json::object();
  for (auto& r : results) {
    total += r.requests;
    auto& m = modes[r.keepalive ? "keepalive" : "fresh"];
    if (m.is_null()) m = {{"requests", 0}, {"failures", 0}, {"connects", 0}};
    uint64_t fails = r.requests - r.by_kind[static_cast<int>(outcome::ok)];
    m["requests"] = m["requests"].get<uint64_t>() + r.requests;
    m["failures"] = m["failures"].get<uint64_t>() + fails;
    m["connects"] = m["connects"].get<uint64_t>() + r.connects;
    for (int k = 0; k < outcome_count; ++k) kinds[k] += r.by_kind[k];
    lat.insert(lat.end(), r.latency_us.begin(), r.latency_us.end());
    for (auto& [pid, n] : r.by_pid) pids[pid] += n;
    log.insert(log.end(), r.failures.begin(), r.failures.end());
  }
  uint64_t ok = kinds[static_cast<int>(outcome::ok)];
  j["requests"] = total;
  j["ok"] = ok;
  j["failures"] = total - ok;
  nlohmann::json by_kind = nlohmann::json::object();
  for (int k = 1; k < outcome_count; ++k) by_kind[outcome_name(static_cast<outcome>(k))] = kinds[k];
  j["failures_by_kind"] = by_kind;
  j["by_mode"] = modes;
  j["rps"] = secs > 0 ? std::round(static_cast<double>(total) / secs) : 0.0;
  j["latency_ms"] = summary(lat, 1e-3);
  nlohmann::json by_pid = nlohmann::json::object();
  for (auto& [pid, n] : pids) by_pid[std::to_string(pid)] = n;
  j["responses_by_pid"] = by_pid;
  std::sort(log.begin(), log.end(), [](auto& a, auto& b) { return a.t_ms < b.t_ms; });
  nlohmann::json fl = nlohmann::json::array();
  for (auto& f : log)
    fl.push_back({{"t_ms", f.t_ms}, {"kind", outcome_name(f.kind)}, {"errno", f.err},
                  {"worker", f.worker}, {"mode", f.keepalive ? "keepalive" : "fresh"}});
  j["failure_log"] = fl; // the first few per worker, by time since start
  return j;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  if (int rc = parse(argc, argv, cfg); rc >= 0) return rc;
  sockaddr_in to{};
  if (!parse_ipv4_endpoint(cfg.target, to)) {
    std::fprintf(stderr, "bench-http-load: --target must be IPv4:PORT, got '%s'\n", cfg.target.c_str());
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr); // the workers inherit it
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<worker_result> results(static_cast<size_t>(cfg.connections));
  std::vector<std::thread> workers;
  auto t0 = clock_type::now();
  for (int i = 0; i < cfg.connections; ++i) {
    bool keepalive = cfg.mode == "keepalive" || (cfg.mode == "mixed" && i % 2 == 0);
    workers.emplace_back(run_worker, std::cref(cfg), std::cref(to), i, keepalive, t0,
                         std::ref(results[static_cast<size_t>(i)]));
  }
  long limit = cfg.duration_ms > 0 ? std::min(cfg.duration_ms, cfg.max_duration_ms) : cfg.max_duration_ms;
  for (;;) {
    auto elapsed = duration_cast<milliseconds>(clock_type::now() - t0).count();
    if (elapsed >= limit) break;
    timespec ts{0, 20 * 1000000L};
    if (::sigtimedwait(&set, nullptr, &ts) > 0) break;
    struct stat st;
    if (!cfg.stop_file.empty() && ::stat(cfg.stop_file.c_str(), &st) == 0) break;
  }
  g_stop = true;
  for (auto& w : workers) w.join();
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();

  std::string text = report(cfg, results, secs).dump(2) + "\n";
  if (cfg.json_path.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    std::ofstream f{cfg.json_path};
    f << text;
    if (!f) {
      std::fprintf(stderr, "bench-http-load: cannot write %s\n", cfg.json_path.c_str());
      return 1;
    }
  }
  return 0;
}
