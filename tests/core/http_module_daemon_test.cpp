// The daemon loads cpp-httplib (and the OpenSSL, brotli and zlib Debian's
// build of it brings) only with its first HTTP check or [metrics]: a daemon
// that needs no HTTP does not carry ~4 MB of it (src/http/http.hpp).

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "cli_util.hpp"
#include "harness.hpp"
#include "net_util.hpp"

using namespace arbor::test;
using namespace std::chrono_literals;

namespace {

bool maps_http(const std::string& maps) {
  return maps.find("libarbor-http.so") != std::string::npos
         || maps.find("libcpp-httplib") != std::string::npos
         || maps.find("libssl") != std::string::npos || maps.find("libcrypto") != std::string::npos;
}

} // namespace

TEST_CASE("daemon: no HTTP library is mapped until an HTTP check needs one") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  std::string plain = "[idle]\nargs = " + child_args({"sleep"}) + "\n"
                      + "[tcp]\nargs = " + child_args({"sleep"}) + "\n"
                      + "health_check = { tcp = \"127.0.0.1:1\", interval_secs = 1 }\n";
  std::ofstream(cfg) << plain;
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  auto before = daemon_maps(home);
  CHECK_FALSE(maps_http(before));
  CHECK(before.find("libcaf_core") != std::string::npos); // it is the daemon's map

  auto port = free_ports(1);
  std::ofstream(cfg) << plain << "[web]\nargs = " << child_args({"sleep"}) << "\n"
                     << "health_check = \"http://127.0.0.1:" << port << "/health\"\n";
  auto apply = run_arbor({"apply", cfg}, home);
  INFO(apply.err);
  REQUIRE(apply.rc == 0);
  CHECK(eventually([&] { return daemon_maps(home).find("libarbor-http.so") != std::string::npos; }, 20s));
  auto after = daemon_maps(home);
  CHECK(after.find("libcpp-httplib") != std::string::npos);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("daemon: a metrics section loads the HTTP module at start and serves through it") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  auto port = free_ports(1);
  std::ofstream(cfg) << "[metrics]\nlisten = \"127.0.0.1:" << port << "\"\n"
                     << "[idle]\nargs = " << child_args({"sleep"}) << "\n";
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  // The module is mapped before the server binds: wait for the log line.
  std::string log;
  eventually([&] {
    log = slurp(home + "/daemon.log");
    return log.find("event=metrics_") != std::string::npos;
  }, 20s);
  INFO(log);
  CHECK(daemon_maps(home).find("libarbor-http.so") != std::string::npos);
  CHECK(log.find("event=metrics_listening listen=127.0.0.1:" + std::to_string(port))
        != std::string::npos);
  CHECK(run_arbor({"down"}, home).rc == 0);
}
