// How readiness is decided, in words, and where a check cannot tell
// instances apart.

#include <catch2/catch.hpp>

#include "config/ready_rule.hpp"

using namespace arbor;
using arbor::config::fixed_port_of;
using arbor::config::ready_rule;
using arbor::config::ready_warnings;

namespace {

health_check_spec check(health_check_spec::kind k, std::string target) {
  health_check_spec h;
  h.type = k;
  h.target = std::move(target);
  return h;
}

app_spec app(health_check_spec h, uint32_t instances = 1, uint16_t port = 0) {
  app_spec a;
  a.name = "web";
  a.health = std::move(h);
  a.instances = instances;
  a.port = port;
  return a;
}

using kind = health_check_spec::kind;

} // namespace

TEST_CASE("ready_rule: the fixed port of an http or tcp check") {
  auto f = fixed_port_of(check(kind::http, "http://127.0.0.1:8000/health"));
  REQUIRE(f);
  CHECK(f->host == "127.0.0.1");
  CHECK(f->port == 8000);
  f = fixed_port_of(check(kind::http, "http://localhost/health?x={instance}"));
  REQUIRE(f);
  CHECK(f->host == "localhost");
  CHECK(f->port == 80);
  f = fixed_port_of(check(kind::tcp, "[::1]:5432"));
  REQUIRE(f);
  CHECK(f->host == "::1");
  CHECK(f->port == 5432);
  f = fixed_port_of(check(kind::http, "http://[::1]:9000"));
  REQUIRE(f);
  CHECK(f->host == "::1");
  CHECK(f->port == 9000);
  CHECK_FALSE(fixed_port_of(check(kind::http, "http://127.0.0.1:{port}/health")));
  CHECK_FALSE(fixed_port_of(check(kind::tcp, "127.0.0.1:{port}")));
  CHECK_FALSE(fixed_port_of(check(kind::exec, "curl -f http://127.0.0.1:8000/")));
  CHECK_FALSE(fixed_port_of(check(kind::none, "")));
  CHECK_FALSE(fixed_port_of(check(kind::tcp, "127.0.0.1")));
}

TEST_CASE("ready_rule: each way an app becomes ready, in words") {
  CHECK(ready_rule(app(check(kind::http, "http://127.0.0.1:8000/health"), 2))
        == "health check http://127.0.0.1:8000/health passes and this instance listens on "
           "127.0.0.1:8000 (while other runs of web serve that port)");
  CHECK(ready_rule(app(check(kind::tcp, "[::1]:8000")))
        == "health check tcp [::1]:8000 connects and this instance listens on [::1]:8000 (while "
           "other runs of web serve that port)");
  CHECK(ready_rule(app(check(kind::http, "http://127.0.0.1:{port}/"), 2, 3000))
        == "health check http://127.0.0.1:{port}/ passes (per-instance port {port})");
  CHECK(ready_rule(app(check(kind::exec, "test -e /tmp/{instance}"), 2))
        == "health check `test -e /tmp/{instance}` exits 0 (per-instance {instance})");
  auto notify = app(check(kind::http, "http://127.0.0.1:8000/"));
  notify.ready = "notify";
  CHECK(ready_rule(notify) == "READY=1 from the app (sd_notify)");
  auto plain = app({});
  CHECK(ready_rule(plain) == "running for min_uptime 1s");
  plain.min_uptime = std::chrono::milliseconds{0};
  CHECK(ready_rule(plain) == "immediately");
}

TEST_CASE("ready_rule: warnings where a check cannot tell instances apart") {
  // A fixed port while each run gets its own PORT: a run on its $PORT is never ready.
  auto ws = ready_warnings(app(check(kind::http, "http://127.0.0.1:8000/health"), 2, 8000));
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].rfind("the health check targets 127.0.0.1:8000 whatever PORT a run gets", 0) == 0);
  CHECK(ws[0].find("write {port}") != std::string::npos);
  // The same exec command for every instance.
  ws = ready_warnings(app(check(kind::exec, "curl -fs http://127.0.0.1:8000/"), 3));
  REQUIRE(ws.size() == 1);
  CHECK(ws[0] == "the exec health check is the same command for all 3 instances: it cannot tell "
                 "them apart (write {port} or {instance} in it)");
  // Fine: per-instance placeholders, one instance, or a shared port the
  // instances each bind themselves (told apart by their own listeners).
  CHECK(ready_warnings(app(check(kind::http, "http://127.0.0.1:{port}/"), 2, 8000)).empty());
  CHECK(ready_warnings(app(check(kind::exec, "test -e /run/{instance}"), 3)).empty());
  CHECK(ready_warnings(app(check(kind::exec, "pg_isready"), 1)).empty());
  CHECK(ready_warnings(app(check(kind::http, "http://127.0.0.1:8000/"), 2)).empty());
  CHECK(ready_warnings(app({}, 4)).empty());
}

TEST_CASE("ready_rule: a check on the app's own listen socket is said and warned about") {
  auto a = app(check(health_check_spec::kind::http, "http://127.0.0.1:8000/health"), 2);
  a.listen.push_back(listen_spec{":8000", "", "", ""});
  CHECK(ready_rule(a)
        == "health check http://127.0.0.1:8000/health passes (on arbor's socket 127.0.0.1:8000, "
           "which every run holds)");
  auto w = ready_warnings(a);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Contains("the app's own listen socket: every run holds it"));
  a.listen = {listen_spec{"127.0.0.1:9000", "", "", ""}, listen_spec{"unix:/run/8000", "", "", ""}};
  CHECK(ready_warnings(a).empty()); // another port: the kernel's tables tell runs apart
}
