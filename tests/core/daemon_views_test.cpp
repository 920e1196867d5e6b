// What the CLI shows and does against a real daemon where it once misled:
// `show app#i` shows that instance and how it becomes ready, `status` says
// what an app waits for, `restart all` leaves a finished one-shot finished,
// and `stop` says what it is waiting for while an app takes its kill_timeout.

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

/// db never becomes ready (notify, never sent), so api waits for it; web
/// runs two instances; migrate is a one-shot that finishes at once.
std::string config() {
  return "[db]\nargs = " + child_args({"sleep"}) + "\nready = \"notify\"\n"
         + "[api]\nargs = " + child_args({"sleep"}) + "\ndepends_on = [\"db\"]\n"
         + "[web]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\n"
         + "[migrate]\nargs = " + child_args({"exit", "0"}) + "\nrestart = \"never\"\n";
}

nlohmann::json instance(const std::string& home, const std::string& id) {
  auto status = arbor_json({"status"}, home);
  for (auto& i : status["instances"])
    if (i["id"] == id) return i;
  return nullptr;
}

bool finished(const std::string& home) {
  auto m = instance(home, "migrate#0");
  return m.is_object() && m["state"] == "stopped" && m["last_exit"] == "exit(0)";
}

/// How many times `id` was started, from the daemon's recent events.
size_t starts_of(const std::string& home, const std::string& id) {
  auto r = run_arbor({"events", "-n", "1000", "--json"}, home);
  REQUIRE(r.rc == 0);
  size_t n = 0;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) {
    auto e = nlohmann::json::parse(l);
    if (e["event"] == "child_started" && e["offender"] == id) ++n;
  }
  return n;
}

} // namespace

TEST_CASE("daemon: show app#i, a waiting app's note in status, restart all and a finished one-shot") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  up_with(home, d.file("arbor.toml"), config());
  REQUIRE(eventually([&] { return finished(home); }));

  // status says why api is not running.
  auto api = instance(home, "api#0");
  CHECK(api["state"] == "stopped");
  CHECK(api["reason"] == "waiting for db");
  auto st = run_arbor({"status"}, home);
  CHECK(st.rc == 0);
  auto row = st.out.substr(st.out.find("\napi "));
  row = row.substr(0, row.find('\n', 1));
  CHECK(row.find("waiting for db") != std::string::npos);

  // show web#1: that instance only.
  auto show = arbor_json({"show", "web#1"}, home);
  REQUIRE(show["node"]["instances"].size() == 1);
  CHECK(show["node"]["instances"][0]["id"] == "web#1");
  auto text = run_arbor({"show", "web#1"}, home);
  CHECK(text.out.find("\nweb  #1 ") != std::string::npos);
  CHECK(text.out.find("#0") == std::string::npos);
  // ... and how its instances become ready.
  CHECK(show["ready_when"] == "running for min_uptime 1s");
  CHECK(text.out.find("\nready when running for min_uptime 1s\n") != std::string::npos);
  CHECK(arbor_json({"show", "db"}, home)["ready_when"] == "READY=1 from the app (sd_notify)");

  // restart all: web and db restart, the finished one-shot does not run again.
  auto web_before = instance(home, "web#0")["pid"].get<int>();
  REQUIRE(starts_of(home, "migrate#0") == 1);
  auto all = arbor_json({"restart", "all"}, home);
  INFO(all.dump());
  auto affected = all["affected"];
  CHECK(std::find(affected.begin(), affected.end(), "web#0") != affected.end());
  CHECK(std::find(affected.begin(), affected.end(), "db#0") != affected.end());
  CHECK(std::find(affected.begin(), affected.end(), "migrate#0") == affected.end());
  CHECK(instance(home, "web#0")["pid"].get<int>() != web_before);
  CHECK(finished(home));
  CHECK(starts_of(home, "migrate#0") == 1);
  CHECK(instance(home, "api#0")["reason"] == "waiting for db"); // still waiting
  // Named, start and restart of the waiting app wait too.
  CHECK(run_arbor({"restart", "api"}, home).rc == 0);
  CHECK(run_arbor({"start", "api"}, home).rc == 0);
  CHECK(instance(home, "api#0")["reason"] == "waiting for db");
  CHECK(starts_of(home, "api#0") == 0);

  // Named, it runs again.
  auto named = arbor_json({"restart", "migrate"}, home);
  CHECK(named["affected"] == nlohmann::json::array({"migrate#0"}));
  CHECK(eventually([&] { return starts_of(home, "migrate#0") == 2 && finished(home); }));
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("daemon: stop of an app that ignores SIGTERM says it waits out kill_timeout, then SIGKILL") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  up_with(home, d.file("arbor.toml"),
          "[slow]\nargs = " + child_args({"ignore-term"}) + "\nkill_timeout = \"300ms\"\n");
  // "ready" is printed once SIGTERM is ignored.
  REQUIRE(eventually([&] { return slurp(home + "/logs/slow.out.log").find("ready") != std::string::npos; }));
  auto pid = std::to_string(instance(home, "slow#0")["pid"].get<int>());

  auto r = run_arbor({"stop", "slow"}, home);
  INFO(r.out << r.err);
  CHECK(r.rc == 0);
  auto sent = r.out.find("slow#0: sent SIGTERM (pid " + pid
                         + "); SIGKILL if it has not exited within 300ms (kill_timeout)\n");
  auto killed = r.out.find("slow#0: still running after 300ms (kill_timeout): sent SIGKILL\n");
  auto done = r.out.find("stopped slow#0\n");
  REQUIRE(sent != std::string::npos);
  REQUIRE(killed != std::string::npos);
  REQUIRE(done != std::string::npos);
  CHECK(sent < killed);
  CHECK(killed < done);

  // --json prints the result alone; a stop of what is stopped says nothing more.
  auto again = run_arbor({"stop", "slow", "--json"}, home);
  CHECK(again.rc == 0);
  CHECK(nlohmann::json::parse(again.out)["affected"] == nlohmann::json::array({"slow#0"}));
  CHECK(run_arbor({"stop", "slow"}, home).out == "stopped slow#0\n");
  CHECK(run_arbor({"down"}, home).rc == 0);
}
