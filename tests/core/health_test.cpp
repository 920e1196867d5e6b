// Health checks, readiness and dependencies with real helper servers.

#include <catch2/catch.hpp>

#include <fstream>

#include "harness.hpp"
#include "net_util.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

std::string server(std::initializer_list<std::string> args) {
  std::string s = "[\"" ARBOR_TEST_SERVER "\"";
  for (auto& a : args) s += ", \"" + a + "\"";
  return s + "]";
}

int64_t ms_between(const event& a, const event& b) { return (b.at_ns - a.at_ns) / 1000000; }

} // namespace

TEST_CASE("health: an endpoint answering 500 restarts the instance after `failures`") {
  auto port = free_ports(1);
  temp_dir d;
  auto code = d.file("code");
  std::ofstream(code) << 200;
  harness h{"[web]\nargs = " + server({"http", "@" + code}) + "\nport = " + std::to_string(port)
            + "\n[web.health_check]\nendpoint = \"http://127.0.0.1:{port}/health\"\n"
              "interval_secs = \"100ms\"\ntimeout_secs = \"500ms\"\nfailures = 3\n"};
  h.start();
  auto started = h.wait(event_kind::child_started, "web#0");
  auto ready = h.wait(event_kind::ready, "web#0");
  CHECK(ready.pid == started.pid);
  CHECK(ready.reason.find("health check passed: HTTP 200") != std::string::npos);
  CHECK(h.instance("web#0").state == proc_state::ready);
  CHECK(h.instance("web#0").port == port);

  std::ofstream(code) << 500;
  auto unhealthy = h.wait(event_kind::unhealthy, "web#0", 10s);
  CHECK(unhealthy.pid == started.pid);
  CHECK(unhealthy.reason == "health: HTTP 500 (3 consecutive failures)");
  // Three failures at 100 ms apart: not before the third probe.
  CHECK(h.count(event_kind::unhealthy, "web#0") == 1);
  auto stopping = h.wait(event_kind::stopping, "web#0");
  CHECK(stopping.reason.rfind("health: HTTP 500", 0) == 0);
  std::ofstream(code) << 200;
  auto again = h.wait(event_kind::child_started, "web#0");
  CHECK(again.pid != started.pid);
  CHECK(h.wait(event_kind::restarting, "web#0").cause == restart_cause::health);
  CHECK(h.instance("web#0").last_exit.rfind("health: HTTP 500 (3 consecutive failures)", 0) == 0);
  CHECK(wait_gone(started.pid));
  h.wait(event_kind::ready, "web#0");
}

TEST_CASE("health: hung endpoints time out without stalling other apps") {
  auto ports = free_ports(4);
  harness h{"[hung]\nargs = " + server({"hang"}) + "\ninstances = 3\nport = "
            + std::to_string(ports)
            + "\n[hung.health_check]\nendpoint = \"http://127.0.0.1:{port}/\"\n"
              "interval_secs = \"100ms\"\ntimeout_secs = \"300ms\"\nfailures = 2\n"
              "[ok]\nargs = "
            + server({"tcp"}) + "\nport = " + std::to_string(ports + 3)
            + "\nhealth_check = { tcp = \"127.0.0.1:{port}\" }\n"
              "[crashy]\nargs = "
            + child_args({"run-for", "20", "1"}) + "\nmax_restarts = 1000\nbackoff_base_ms = 10\nbackoff_max_ms = 20\n"};
  h.start();
  auto ok = h.wait(event_kind::ready, "ok#0", 5s);
  // The tree answers at once while three checks hang on the two workers.
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    CHECK(h.instance("hung#0").state != proc_state::ready);
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  }
  // A crashing neighbour keeps being restarted meanwhile.
  auto c1 = h.wait(event_kind::child_started, "crashy#0");
  auto c2 = h.wait([&](const event& e) {
    return e.what == event_kind::child_started && e.offender == "crashy#0" && e.pid != c1.pid;
  });
  CHECK(c2.pid != c1.pid);
  auto bad = h.wait(event_kind::unhealthy, "hung#", 15s);
  CHECK(bad.reason.find("timed out after 300ms") != std::string::npos);
  CHECK(ok.reason.find("health check passed") != std::string::npos);
}

TEST_CASE("readiness: ready = \"notify\" waits for READY=1 from the app") {
  harness h{"[svc]\nargs = " + server({"notify", "300"}) + "\nready = \"notify\"\n"};
  h.start();
  auto started = h.wait(event_kind::child_started, "svc#0");
  CHECK(h.instance("svc#0").state == proc_state::running); // not ready before READY=1
  auto ready = h.wait(event_kind::ready, "svc#0", 5s);
  CHECK(ready.pid == started.pid);
  CHECK(ready.reason.find("READY=1") != std::string::npos);
  CHECK(ms_between(started, ready) >= 250);
  auto st = h.instance("svc#0");
  CHECK(st.state == proc_state::ready);
  CHECK(st.reason == "STATUS=serving");
}

TEST_CASE("readiness: a tcp check is polled tightly at startup, not at interval_secs") {
  auto port = free_ports(1);
  // Default interval_secs (10 s): readiness must not wait for it.
  harness h{"[db]\nargs = " + server({"tcp", "300"}) + "\nport = " + std::to_string(port)
            + "\nhealth_check = { tcp = \"127.0.0.1:{port}\" }\n"};
  h.start();
  auto started = h.wait(event_kind::child_started, "db#0");
  auto ready = h.wait(event_kind::ready, "db#0", 5s);
  CHECK(ms_between(started, ready) >= 250);
  CHECK(ms_between(started, ready) < 3000);
  CHECK(h.instance("db#0").health.rfind("connected to 127.0.0.1:", 0) == 0);
}

TEST_CASE("readiness: without a check an instance is ready after min_uptime") {
  harness h{"[w]\nargs = " + child_args({"sleep"}) + "\nmin_uptime = 200\n"};
  h.start();
  auto started = h.wait(event_kind::child_started, "w#0");
  auto ready = h.wait(event_kind::ready, "w#0");
  CHECK(ms_between(started, ready) >= 190);
  CHECK(ready.reason.find("min_uptime 200ms") != std::string::npos);
}

TEST_CASE("depends_on: an app starts once its dependencies are ready, stops before them") {
  auto port = free_ports(1);
  harness h{"[web]\nargs = " + child_args({"sleep"}) + "\ndepends_on = [\"db\", \"cache\"]\n"
            + "[cache]\nargs = " + server({"notify", "200"}) + "\nready = \"notify\"\n"
            + "[db]\nargs = " + server({"tcp", "300"}) + "\nport = " + std::to_string(port)
            + "\nhealth_check = { tcp = \"127.0.0.1:{port}\" }\n"};
  h.start();
  auto waiting = h.wait(event_kind::waiting, "web");
  CHECK(waiting.reason.find("db") != std::string::npos);
  auto db_ready = h.wait(event_kind::ready, "db#0", 5s);
  auto cache_ready = h.wait(event_kind::ready, "cache#0", 5s);
  auto web = h.wait(event_kind::child_started, "web#0", 5s);
  CHECK(web.at_ns >= db_ready.at_ns);
  CHECK(web.at_ns >= cache_ready.at_ns);
  REQUIRE(h.tree->stop(10s));
  auto web_stopped = h.wait(event_kind::stopped, "web#0");
  auto db_stopping = h.wait(event_kind::stopping, "db#0");
  auto cache_stopping = h.wait(event_kind::stopping, "cache#0");
  CHECK(web_stopped.at_ns <= db_stopping.at_ns);
  CHECK(web_stopped.at_ns <= cache_stopping.at_ns);
}
