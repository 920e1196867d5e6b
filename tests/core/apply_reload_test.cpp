// `apply` of a changed app with readiness: a rolling reload onto the new spec
// (never fewer ready instances), then its instance count; if the reload
// aborts, what still runs the old spec starts on the new one.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <signal.h>

#include "config/loader.hpp"
#include "harness.hpp"
#include "net_util.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

apply_report apply_toml(harness& h, const std::string& toml) {
  auto res = config::load_string(toml, h.dir.file("next.toml"), h.dir.path.string());
  REQUIRE(res.ok());
  apply_report out;
  h.self->request(h.tree->root(), caf::infinite, apply_atom::value,
                  std::make_shared<const group_spec>(res.tree->root))
    .receive([&](apply_report& r) { out = std::move(r); },
             [](caf::error& e) { FAIL("apply: " << caf::to_string(e)); });
  return out;
}

/// The value of `key` in the environment of `pid` ("" if none). Right after
/// a spawn, /proc/<pid>/environ can be empty for a moment (the vfork parent
/// resumes before execve has set up the new stack): read until it is not.
std::string env_of(int pid, const std::string& key) {
  const auto path = "/proc/" + std::to_string(pid) + "/environ";
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);;) {
    std::ifstream in(path);
    std::string entry;
    bool any = false;
    while (std::getline(in, entry, '\0')) {
      any = true;
      if (entry.compare(0, key.size() + 1, key + "=") == 0) return entry.substr(key.size() + 1);
    }
    if (any || !in.is_open() || std::chrono::steady_clock::now() > until) return "";
    std::this_thread::yield();
  }
}

/// `web` serving HTTP on $PORT, checked there, VERSION in its environment.
std::string web(uint16_t port, int instances, const std::string& version,
                const std::string& command = "exec " ARBOR_TEST_SERVER " http 200") {
  return "[web]\ncommand = '" + command + "'\nshell = true\ninstances = "
         + std::to_string(instances) + "\nport = " + std::to_string(port)
         + "\nkill_timeout = 2000\nenv = { VERSION = \"" + version + "\" }\n"
         + "[web.health_check]\nendpoint = \"http://127.0.0.1:{port}/\"\n"
         + "interval_secs = \"100ms\"\ntimeout_secs = \"300ms\"\nfailures = 2\n";
}

} // namespace

TEST_CASE("apply: a changed app with readiness is reloaded, each replacement ready before its old run stops") {
  auto port = free_ports(6);
  harness h{web(port, 2, "1") + "[plain]\nargs = " + child_args({"sleep"}) + "\n"};
  h.start();
  auto old0 = h.wait(event_kind::ready, "web#0", 5s);
  auto old1 = h.wait(event_kind::ready, "web#1", 5s);
  auto plain = h.wait(event_kind::child_started, "plain#0");

  auto r = apply_toml(h, web(port, 3, "2") + "[plain]\nargs = " + child_args({"sleep"}) + "\n");
  CHECK(r.changed == std::vector<std::string>{"web"});
  CHECK(r.reloaded == std::vector<std::string>{"web"});
  CHECK(r.unchanged == std::vector<std::string>{"plain"});
  for (auto& old : {old0, old1}) {
    auto id = old.offender;
    auto stopping = h.wait([&](const event& e) {
      return e.what == event_kind::stopping && e.pid == old.pid;
    });
    CHECK(stopping.reason.find("reload: replaced by a ready run") == 0);
    // A new run of this instance was ready before the old one was told to stop.
    bool ready_before = false;
    for (auto& e : h.history())
      ready_before = ready_before || (e.what == event_kind::ready && e.offender == id
                                      && e.pid != old.pid && e.at_ns <= stopping.at_ns);
    CHECK(ready_before);
    CHECK(wait_gone(old.pid));
  }
  h.wait(event_kind::reloaded, "web");
  h.wait(event_kind::child_started, "web#2"); // then the count: 2 → 3
  for (auto id : {"web#0", "web#1", "web#2"}) {
    INFO(id);
    auto now = h.instance(id);
    CHECK(env_of(now.pid, "VERSION") == "2");
    CHECK(now.port == port + (id[4] - '0'));
  }
  CHECK(h.instance("plain#0").pid == plain.pid); // untouched
  CHECK(h.count(event_kind::stopping, "plain") == 0);
}

TEST_CASE("apply: a changed app without readiness is stopped and started, not reloaded") {
  harness h{"[w]\nargs = " + child_args({"sleep"}) + "\n"};
  h.start();
  auto old = h.wait(event_kind::child_started, "w#0");
  auto r = apply_toml(h, "[w]\nargs = " + child_args({"sleep"}) + "\nenv = { VERSION = \"2\" }\n");
  CHECK(r.changed == std::vector<std::string>{"w"});
  CHECK(r.reloaded.empty());
  CHECK(wait_gone(old.pid));
  auto fresh = h.wait([&](const event& e) {
    return e.what == event_kind::child_started && e.offender == "w#0" && e.pid != old.pid;
  });
  INFO("pid " << fresh.pid << (::kill(fresh.pid, 0) == 0 ? " alive" : " gone"));
  CHECK(env_of(fresh.pid, "VERSION") == "2");
}

TEST_CASE("apply: a reload onto a spec that is never ready aborts, and the old runs start on the new spec") {
  auto port = free_ports(4);
  harness h{web(port, 2, "1")};
  h.start();
  auto old0 = h.wait(event_kind::ready, "web#0", 5s);
  auto old1 = h.wait(event_kind::ready, "web#1", 5s);
  // Runs (and says so, with its pid), but never serves its port: never ready.
  auto runs = h.dir.file("runs");
  auto r = apply_toml(h, web(port, 2, "3", "echo \"$VERSION $$\" >> " + runs + "; exec sleep 60"));
  CHECK(r.reloaded == std::vector<std::string>{"web"});
  auto aborted = h.wait(event_kind::reload_aborted, "web", 10s);
  CHECK(aborted.reason.find("aborted at web#0: replacement not ready within") != std::string::npos);
  // Not left on the old spec: each old run stops and the instance starts anew.
  for (auto& old : {old0, old1}) {
    INFO(old.offender);
    CHECK(wait_gone(old.pid));
    auto renewed = h.wait([&](const event& e) {
      return e.what == event_kind::restarting && e.offender == old.offender
             && e.reason == "apply: the reload was aborted; started on the new config";
    });
    auto now = h.wait([&](const event& e) {
      return e.what == event_kind::child_started && e.offender == old.offender
             && e.at_ns >= renewed.at_ns;
    });
    auto line = "3 " + std::to_string(now.pid);
    bool ran_new_spec = false;
    for (int tries = 0; tries < 100 && !ran_new_spec; ++tries) {
      std::ifstream in(runs);
      std::stringstream all;
      all << in.rdbuf();
      ran_new_spec = all.str().find(line + "\n") != std::string::npos;
      if (!ran_new_spec) std::this_thread::sleep_for(20ms);
    }
    INFO("want the line '" << line << "' in " << runs);
    CHECK(ran_new_spec);
  }
}
