// `[metrics]` end to end: a real daemon serving /metrics, scraped over HTTP
// and checked with `promtool check metrics` (scripts/install-deps.sh installs
// Debian's `prometheus`, which ships promtool).

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

/// A port nobody listens on right now: bind port 0, read it, close.
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct scrape_result {
  int status = 0; ///< 0: no answer
  std::string body, content_type;
};

scrape_result get(uint16_t port, const std::string& path) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(std::chrono::seconds(2));
  cli.set_read_timeout(std::chrono::seconds(10));
  scrape_result r;
  if (auto res = cli.Get(path.c_str())) {
    r.status = res->status;
    r.body = res->body;
    r.content_type = res->get_header_value("Content-Type");
  }
  return r;
}

/// The value of one series ("name{labels}" exactly as rendered), if present.
std::optional<double> value_of(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0
        && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

/// Scrapes until `ok(body)` or 20 s passed; returns the last scrape.
scrape_result scrape_until(uint16_t port, const std::function<bool(const std::string&)>& ok) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  scrape_result r;
  for (;;) {
    r = get(port, "/metrics");
    if (r.status == 200 && ok(r.body)) return r;
    if (std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string restarts(const std::string& app, int index, const std::string& reason) {
  return "arbor_instance_restarts_total{app=\"" + app + "\",index=\"" + std::to_string(index)
         + "\",reason=\"" + reason + "\"}";
}

std::string series(const std::string& name, const std::string& app, int index) {
  return name + "{app=\"" + app + "\",index=\"" + std::to_string(index) + "\"}";
}

} // namespace

TEST_CASE("metrics: /metrics of a running daemon counts a crash and a manual restart, "
          "promtool accepts it") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto port = free_port();
  auto marker = d.file("crashed-once");
  // web.flaky exits 1 on its first run, then sleeps: one crash, then stable.
  std::ofstream(d.file("arbor.toml"))
    << "[metrics]\nlisten = \"127.0.0.1:" << port << "\"\n\n"
    << "[web.flaky]\nshell = true\ncommand = 'if [ -e " << marker << " ]; then exec "
    << ARBOR_TEST_CHILD << " sleep; else touch " << marker << "; exit 1; fi'\n\n"
    << "[web.steady]\nargs = " << child_args({"sleep"}) << "\ninstances = 2\n"
    << "min_uptime = 3600000\n"; // not ready (no check: ready after min_uptime) however slow

  auto up = run_arbor({"up", d.file("arbor.toml")}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);

  // The crash shows as one restart of web.flaky#0 for reason crash.
  auto r = scrape_until(port, [](const std::string& body) {
    return value_of(body, restarts("web.flaky", 0, "crash")) == 1.0
           && value_of(body, series("arbor_instance_up", "web.flaky", 0)) == 1.0;
  });
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(value_of(r.body, restarts("web.flaky", 0, "crash")) == 1.0);
  CHECK(value_of(r.body, restarts("web.flaky", 0, "manual")) == 0.0);
  CHECK(value_of(r.body, restarts("web.steady", 1, "crash")) == 0.0);

  // A manual restart of one instance counts for that instance alone.
  auto restart = run_arbor({"restart", "web.steady#1"}, home);
  REQUIRE(restart.rc == 0);
  r = scrape_until(port, [](const std::string& body) {
    return value_of(body, restarts("web.steady", 1, "manual")) == 1.0;
  });
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(value_of(r.body, restarts("web.steady", 1, "manual")) == 1.0);
  CHECK(value_of(r.body, restarts("web.steady", 0, "manual")) == 0.0);
  CHECK(value_of(r.body, restarts("web.flaky", 0, "crash")) == 1.0);

  // Every family, with HELP and TYPE; per-instance gauges with app/index.
  for (auto* f : {"arbor_instance_up gauge", "arbor_instance_ready gauge",
                  "arbor_instance_state gauge", "arbor_instance_restarts_total counter",
                  "arbor_instance_memory_bytes gauge", "arbor_instance_cpu_ratio gauge",
                  "arbor_instance_uptime_seconds gauge", "arbor_group_failed gauge",
                  "arbor_tree_status_success gauge", "arbor_daemon_uptime_seconds gauge",
                  "arbor_daemon_resident_memory_bytes gauge", "arbor_daemon_open_fds gauge",
                  "arbor_build_info gauge", "arbor_scrape_duration_seconds gauge"}) {
    INFO(f);
    CHECK(r.body.find(std::string{"\n# TYPE "} + f + "\n") != std::string::npos);
  }
  for (int i = 0; i < 2; ++i) {
    CHECK(value_of(r.body, series("arbor_instance_up", "web.steady", i)) == 1.0);
    CHECK(value_of(r.body, series("arbor_instance_ready", "web.steady", i)) == 0.0);
    CHECK(value_of(r.body, "arbor_instance_state{app=\"web.steady\",index=\"" + std::to_string(i)
                             + "\",state=\"running\"}")
          == 1.0);
    CHECK(value_of(r.body, series("arbor_instance_uptime_seconds", "web.steady", i)) >= 0.0);
  }
  CHECK(value_of(r.body, "arbor_group_failed{group=\"web\"}") == 0.0);
  CHECK(value_of(r.body, "arbor_tree_status_success") == 1.0);
  CHECK(value_of(r.body, "arbor_build_info{version=\"0.1.0\"}") == 1.0);
  CHECK(value_of(r.body, "arbor_daemon_resident_memory_bytes") > 1e6);
  CHECK(value_of(r.body, "arbor_daemon_open_fds") > 0.0);
  CHECK(value_of(r.body, "arbor_daemon_uptime_seconds") >= 0.0);
  CHECK(value_of(r.body, "arbor_scrape_duration_seconds") >= 0.0);

  // Only /metrics is served.
  CHECK(get(port, "/").status == 404);
  CHECK(get(port, "/metricsx").status == 404);

  // The scrape passes promtool's parser and linter.
  bool have_promtool = std::system("command -v promtool > /dev/null 2>&1") == 0;
  if (!have_promtool)
    FAIL("promtool is not on PATH: run scripts/install-deps.sh (Debian package `prometheus`)");
  auto scrape_file = d.file("scrape.txt"), out_file = d.file("promtool.out");
  std::ofstream(scrape_file) << r.body;
  int rc = std::system(("promtool check metrics < '" + scrape_file + "' > '" + out_file
                        + "' 2>&1")
                         .c_str());
  INFO("promtool check metrics: " << slurp(out_file));
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);

  CHECK(run_arbor({"down"}, home).rc == 0);
  CHECK(get(port, "/metrics").status == 0); // gone with the daemon
}

TEST_CASE("metrics: a listen address in use is logged and the daemon runs on without "
          "metrics") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  // Hold a port.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  auto port = ntohs(a.sin_port);

  std::ofstream(d.file("arbor.toml"))
    << "[metrics]\nlisten = \"127.0.0.1:" << port << "\"\n\n"
    << "[solo]\nargs = " << child_args({"sleep"}) << "\n";
  auto up = run_arbor({"up", d.file("arbor.toml")}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  // The daemon runs on: its instance comes up (it may still be starting).
  CHECK(eventually([&] {
    auto st = arbor_json({"status"}, home);
    return st["instances"].size() == 1 && st["instances"][0]["state"] == "running";
  }));
  CHECK(run_arbor({"down"}, home).rc == 0);
  ::close(fd);

  auto log = slurp(home + "/daemon.log");
  INFO(log);
  CHECK(log.find("event=metrics_failed") != std::string::npos);
  CHECK(log.find("cannot bind 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(log.find("event=metrics_listening") == std::string::npos);
}
