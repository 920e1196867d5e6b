// Rolling reload: a replacement must be ready before the old run stops; a
// replacement that exits or is never ready aborts the reload, old run kept.

#include <catch2/catch.hpp>

#include <fstream>
#include <variant>

#include "harness.hpp"
#include "net_util.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

using ids = std::vector<std::string>;

/// `arbor reload ADDR` on the embedded tree: the ids, or the error text.
std::variant<ids, std::string> reload(harness& h, const std::string& addr) {
  std::variant<ids, std::string> out = std::string{"no answer"};
  h.self->request(h.tree->root(), 60s, reload_atom::value, addr, manual())
    .receive([&](ids& xs) { out = xs; },
             [&](caf::error& e) {
               out = e.context().match_element<std::string>(0)
                       ? e.context().get_as<std::string>(0)
                       : h.sys.render(e);
             });
  return out;
}

/// A shell command: exits 1 (or hangs, with `hang`) once FLAG exists, else
/// serves HTTP 200 on $PORT.
std::string gated(const std::string& flag, bool hang) {
  return "if [ -e " + flag + " ]; then " + (hang ? "exec sleep 60" : "exit 1") + "; fi; exec "
         + ARBOR_TEST_SERVER + " http 200";
}

std::string app(const std::string& command, uint16_t port, int instances, const std::string& check) {
  return "[web]\ncommand = '" + command + "'\nshell = true\ninstances = "
         + std::to_string(instances) + "\nport = " + std::to_string(port)
         + "\nkill_timeout = 2000\n[web.health_check]\n" + check
         + "interval_secs = \"100ms\"\ntimeout_secs = \"300ms\"\nfailures = 2\n";
}

const std::string http_check = "endpoint = \"http://127.0.0.1:{port}/\"\n";

} // namespace

TEST_CASE("reload: each instance is replaced by a ready run before the old one stops, and keeps port+i") {
  // The test server binds $PORT without SO_REUSEPORT: a replacement cannot
  // share its instance's port, so it is checked on a temporary one, and a
  // second replacement takes port+i back once the old run is gone.
  auto port = free_ports(4);
  temp_dir d;
  harness h{app(gated(d.file("never"), false), port, 2, http_check)};
  h.start();
  auto old0 = h.wait(event_kind::ready, "web#0", 5s);
  auto old1 = h.wait(event_kind::ready, "web#1", 5s);
  for (int round = 0; round < 2; ++round) {
    auto r = reload(h, "web");
    REQUIRE(std::holds_alternative<ids>(r));
    CHECK(std::get<ids>(r) == ids{"web#0", "web#1"});
    for (auto* old : {&old0, &old1}) {
      auto id = old->offender;
      auto temp = h.wait([&](const event& e) {
        return e.what == event_kind::ready && e.offender == id && e.pid != old->pid;
      });
      auto stopping = h.wait([&](const event& e) {
        return e.what == event_kind::stopping && e.pid == old->pid;
      });
      CHECK(temp.at_ns <= stopping.at_ns); // never fewer ready instances
      CHECK(stopping.reason == "reload: replaced by a ready run on a temporary port");
      CHECK(wait_gone(old->pid));
      auto home = h.wait([&](const event& e) {
        return e.what == event_kind::ready && e.offender == id && e.pid != temp.pid;
      });
      auto temp_stopping = h.wait([&](const event& e) {
        return e.what == event_kind::stopping && e.pid == temp.pid;
      });
      CHECK(home.at_ns <= temp_stopping.at_ns);
      CHECK(temp_stopping.reason == "reload: replaced by a ready run");
      CHECK(wait_gone(temp.pid));
      auto now = h.instance(id);
      CHECK(now.pid == home.pid);
      CHECK(now.state == proc_state::ready);
      *old = home;
    }
    // The same ports as before the reload, every time.
    CHECK(h.instance("web#0").port == port);
    CHECK(h.instance("web#1").port == port + 1);
    auto done = h.wait(event_kind::reloaded, "web");
    CHECK(done.reason == "2 instance(s) replaced");
  }
}

TEST_CASE("reload: a run that shares its port (SO_REUSEPORT) is replaced once, on port+i, by a run that listens itself") {
  // Each run serves $PORT with SO_REUSEPORT, 500 ms after it starts. The
  // check is on {port}: the old run answers there from the start, so only
  // the replacement's own listener may make it ready.
  auto port = free_ports(2);
  constexpr int64_t listen_after_ms = 500;
  harness h{app("exec " ARBOR_TEST_SERVER " reuse $PORT " + std::to_string(listen_after_ms), port,
                2, "tcp = \"127.0.0.1:{port}\"\nstart_period = \"10s\"\n")};
  h.start();
  auto old0 = h.wait(event_kind::ready, "web#0", 10s);
  auto old1 = h.wait(event_kind::ready, "web#1", 10s);
  REQUIRE(std::holds_alternative<ids>(reload(h, "web")));
  int i = 0;
  for (auto& old : {old0, old1}) {
    auto id = old.offender;
    auto where = "127.0.0.1:" + std::to_string(port + i++);
    auto started = h.wait([&](const event& e) {
      return e.what == event_kind::child_started && e.offender == id && e.pid != old.pid;
    });
    auto ready = h.wait([&](const event& e) {
      return e.what == event_kind::ready && e.offender == id && e.pid == started.pid;
    });
    auto stopping = h.wait([&](const event& e) {
      return e.what == event_kind::stopping && e.pid == old.pid;
    });
    INFO(id << ": " << ready.reason);
    CHECK((ready.at_ns - started.at_ns) / 1000000 >= listen_after_ms - 50);
    CHECK(ready.reason.find("(this instance listens on " + where + ")") != std::string::npos);
    CHECK(ready.at_ns <= stopping.at_ns);
    CHECK(stopping.reason == "reload: replaced by a ready run");
    CHECK(h.instance(id).pid == started.pid);
  }
  h.wait(event_kind::reloaded, "web");
  CHECK(h.count(event_kind::child_started, "web#0") == 2); // one replacement, no second hop
  CHECK(h.count(event_kind::child_started, "web#1") == 2);
  CHECK(h.instance("web#0").port == port);
  CHECK(h.instance("web#1").port == port + 1);
}

TEST_CASE("reload: a replacement that exits aborts the reload and keeps the old run") {
  auto port = free_ports(4);
  temp_dir d;
  auto flag = d.file("broken");
  harness h{app(gated(flag, false), port, 2, http_check)};
  h.start();
  auto old0 = h.wait(event_kind::ready, "web#0", 5s);
  auto old1 = h.wait(event_kind::ready, "web#1", 5s);
  std::ofstream(flag) << "x";
  auto r = reload(h, "web");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("aborted at web#0: replacement exited (exit(1)) before it "
                                      "was ready; the old run is kept")
        != std::string::npos);
  CHECK(h.instance("web#0").pid == old0.pid);
  CHECK(h.instance("web#1").pid == old1.pid);
  CHECK(h.instance("web#0").state == proc_state::ready);
  h.wait(event_kind::reload_aborted, "web");
  CHECK(h.count(event_kind::stopping, "web#") == 0); // history up to the abort
}

TEST_CASE("reload: a replacement never ready in time aborts, old run kept") {
  auto port = free_ports(2);
  temp_dir d;
  auto flag = d.file("hang");
  harness h{app(gated(flag, true), port, 1, "tcp = \"127.0.0.1:{port}\"\n")};
  h.start();
  auto old = h.wait(event_kind::ready, "web#0", 5s);
  std::ofstream(flag) << "x";
  auto t0 = std::chrono::steady_clock::now();
  auto r = reload(h, "web");
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("replacement not ready within 900ms") != std::string::npos);
  CHECK(took >= 800ms);
  CHECK(h.instance("web#0").pid == old.pid);
  CHECK(h.instance("web#0").state == proc_state::ready);
  // The replacement was stopped (its group killed), the old run was not.
  auto gone = h.wait([&](const event& e) {
    return e.what == event_kind::stopped && e.offender == "web#0" && e.pid != old.pid;
  });
  CHECK(wait_gone(gone.pid));
}

TEST_CASE("reload: an unknown name, or a second reload while one runs, is refused") {
  auto port = free_ports(2);
  temp_dir d;
  harness h{app(gated(d.file("never"), false), port, 1, http_check)};
  h.start();
  auto old = h.wait(event_kind::ready, "web#0", 5s);
  auto r = reload(h, "nope");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("nope") != std::string::npos);
  // The first reload arrives first (one mailbox); the second is refused.
  caf::anon_send(h.tree->root(), reload_atom::value, std::string{"web"}, manual());
  auto second = reload(h, "web");
  REQUIRE(std::holds_alternative<std::string>(second));
  CHECK(std::get<std::string>(second) == "a reload of web is already in progress");
  h.wait(event_kind::reloaded, "web", 10s); // the first one completes
  CHECK(h.instance("web#0").pid != old.pid);
}

TEST_CASE("reload: on a port the instances share (SO_REUSEPORT), a replacement is ready only once it listens itself") {
  // Both instances serve one fixed port; each run listens 700 ms after it
  // starts. The check has no {port}: the sibling and the old run answer it
  // from the start, so only the replacement's own socket may make it ready.
  auto port = free_ports(1);
  constexpr int64_t listen_after_ms = 700;
  auto where = "127.0.0.1:" + std::to_string(port);
  harness h{"[web]\nargs = [\"" ARBOR_TEST_SERVER "\", \"reuse\", \"" + std::to_string(port)
            + "\", \"" + std::to_string(listen_after_ms) + "\"]\ninstances = 2\nkill_timeout = 2000\n"
            + "[web.health_check]\nendpoint = \"http://" + where + "/health\"\n"
            + "interval_secs = \"100ms\"\ntimeout_secs = \"500ms\"\nstart_period = \"10s\"\n"};
  h.start();
  auto old0 = h.wait(event_kind::ready, "web#0", 10s);
  auto old1 = h.wait(event_kind::ready, "web#1", 10s);
  REQUIRE(std::holds_alternative<ids>(reload(h, "web")));
  for (auto& old : {old0, old1}) {
    auto id = old.offender;
    auto started = h.wait([&](const event& e) {
      return e.what == event_kind::child_started && e.offender == id && e.pid != old.pid;
    });
    auto ready = h.wait([&](const event& e) {
      return e.what == event_kind::ready && e.offender == id && e.pid == started.pid;
    });
    auto stopping = h.wait([&](const event& e) {
      return e.what == event_kind::stopping && e.pid == old.pid;
    });
    INFO(id << ": " << ready.reason);
    CHECK((ready.at_ns - started.at_ns) / 1000000 >= listen_after_ms - 50);
    CHECK(ready.reason.find("(this instance listens on " + where + ")") != std::string::npos);
    CHECK(ready.at_ns <= stopping.at_ns);
  }
  h.wait(event_kind::reloaded, "web");
}
