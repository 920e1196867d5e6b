// examples/socket_activation/ runs as shipped with Debian's python3 and
// nodejs: each app serves GET / (which pid answered) and GET /health from the
// socket arbor hands it, keeps serving across a crash, and exits 0 on SIGTERM.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <string>

#include <httplib.h>

#include "cli_util.hpp"
#include "harness.hpp"
#include "net_util.hpp"

using namespace arbor::test;
using namespace std::chrono_literals;

namespace {

const std::string example_dir = ARBOR_SOURCE_DIR "/examples/socket_activation";

/// The body of GET `path` on 127.0.0.1:`port`, "" without a 200.
std::string get(uint16_t port, const std::string& path) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(std::chrono::seconds(5));
  cli.set_read_timeout(std::chrono::seconds(10));
  auto res = cli.Get(path.c_str());
  return res && res->status == 200 ? res->body : std::string{};
}

/// Runs `command` (cwd: the example) as app `name` with 2 instances on a
/// free port: both answer, a crash refuses nothing, a stop is clean.
void serve_and_check(const std::string& name, const std::string& command,
                     const std::string& greeting) {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto port = free_ports(1);
  up_with(home, d.file("arbor.toml"),
          "[" + name + "]\ncommand = \"" + command + "\"\ncwd = \"" + example_dir
            + "\"\ninstances = 2\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n");
  auto pids = pids_of(home);
  REQUIRE(pids.size() == 2);
  std::set<std::string> expected;
  for (auto& [id, pid] : pids) expected.insert(greeting + std::to_string(pid) + "\n");
  std::set<std::string> seen;
  REQUIRE(eventually([&] { // both runs accept from the one socket (the kernel picks)
    auto body = get(port, "/");
    if (expected.count(body)) seen.insert(body);
    return seen == expected;
  }, 30s));
  CHECK(get(port, "/health") == "ok\n");

  // A crash of one: once it is gone (a request it had taken dies with it),
  // the other and the replacement answer, nothing refused.
  REQUIRE(signal_if_of_home(pids[name + "#0"], home, SIGKILL));
  REQUIRE(wait_gone(pids[name + "#0"]));
  for (int i = 0; i < 20; ++i) CHECK(get(port, "/health") == "ok\n");

  // SIGTERM: each run stops accepting and exits 0.
  REQUIRE(run_arbor({"stop", name}, home).rc == 0);
  REQUIRE(eventually([&] {
    auto x = instance_of(home, name + "#1");
    return !x.is_null() && x.value("state", "") == "stopped";
  }));
  CHECK(instance_of(home, name + "#1").value("last_exit", "") == "manual (exit(0))");
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}

} // namespace

TEST_CASE("socket activation example: the Python app serves from fd 3 and stops cleanly") {
  serve_and_check("py", "python3 app.py", "hello from python pid ");
}

TEST_CASE("socket activation example: the Node app serves from fd 3 and stops cleanly") {
  serve_and_check("node", "node app.js", "hello from node pid ");
}
