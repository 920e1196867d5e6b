// A daemon crash at any moment orphans nothing and doubles nothing: which
// processes exist is read from the kernel (every spawn's ARBOR_ID), the
// journal only remembers policy. Counted here by the environment, not by
// arbor's own view.

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>

#include "cli_util.hpp"
#include "harness.hpp"
#include "os/identity.hpp"

using namespace arbor::test;
using namespace std::chrono_literals;

namespace {

/// Live processes of `app` in `home`, by their environment (ARBOR_APP).
std::vector<int> processes_of(const std::string& home, const std::string& app) {
  std::vector<int> out;
  for (int pid : processes_of_home(home))
    if (arbor::os::environ_value(pid, "ARBOR_APP") == app) out.push_back(pid);
  return out;
}

size_t count_of(const std::string& home, const std::string& app) {
  return processes_of(home, app).size();
}

/// SIGKILLs the daemon and runs `meanwhile` before any daemon comes back:
/// the keeper, which would start a new one at once, is held (SIGSTOP) until
/// then. The next daemon is the keeper's or `up`'s, whichever wins.
void kill_daemon(const std::string& home, const std::function<void()>& meanwhile = {}) {
  int daemon = daemon_pid(home);
  REQUIRE(daemon > 0);
  auto keepers = programs_of_home(home, "arbor-keeper");
  for (int k : keepers) signal_if_of_home(k, home, SIGSTOP);
  REQUIRE(::kill(daemon, SIGKILL) == 0);
  REQUIRE(wait_gone(daemon));
  if (meanwhile) meanwhile();
  for (int k : keepers) signal_if_of_home(k, home, SIGCONT);
}

} // namespace

TEST_CASE("trust: SIGKILL after a reload: the new runs are adopted, none doubled, none left") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  up_with(home, cfg, "[r]\nargs = " + child_args({"sleep"}) + "\ninstances = 3\nmin_uptime = 50\n");
  auto before = pids_of(home);
  auto re = run_arbor({"reload", "r"}, home);
  INFO(re.out << re.err);
  REQUIRE(re.rc == 0);
  REQUIRE(eventually([&] { return count_of(home, "r") == 3; }));
  auto after = pids_of(home);
  for (auto& [id, pid] : after) CHECK(pid != before[id]);

  kill_daemon(home);
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(pids_of(home) == after); // the reload's runs, re-adopted, not kept stopped
  CHECK(count_of(home, "r") == 3);
  REQUIRE(run_arbor({"start", "r"}, home).rc == 0);
  CHECK(count_of(home, "r") == 3);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return count_of(home, "r") == 0; }, 5s));
}

TEST_CASE("trust: a lost or stale journal doubles nothing: the runs are found by their ARBOR_ID") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  up_with(home, cfg, "[s]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\nmin_uptime = 50\n");
  namespace fs = std::filesystem;
  auto stale = d.file("stale");
  fs::create_directories(stale);
  for (auto f : {"state.json", "state.json.log"})
    if (fs::exists(home + "/" + f)) fs::copy_file(home + "/" + f, stale + "/" + f);
  // s#0 is restarted: the copy names its old, dead pid.
  auto before = pids_of(home);
  REQUIRE(::kill(before["s#0"], SIGKILL) == 0);
  REQUIRE(eventually([&] {
    auto p = instance_of(home, "s#0")["pid"].get<int>();
    return p > 0 && p != before["s#0"];
  }));
  auto now = pids_of(home);

  SECTION("stale: a journal write that never happened (disk full)") {
    kill_daemon(home, [&] {
      for (auto f : {"state.json", "state.json.log"}) {
        fs::remove(home + "/" + f);
        if (fs::exists(stale + "/" + f)) fs::copy_file(stale + "/" + f, home + "/" + f);
      }
    });
  }
  SECTION("lost: no journal at all") {
    kill_daemon(home, [&] {
      for (auto f : {"state.json", "state.json.log"}) fs::remove(home + "/" + f);
    });
  }
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(pids_of(home) == now);
  CHECK(count_of(home, "s") == 2);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return count_of(home, "s") == 0; }, 5s));
}

TEST_CASE("trust: up with a changed config after a crash: a removed app stops, a changed one "
          "restarts") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  up_with(home, cfg,
          "[x]\nargs = " + child_args({"sleep"}) + "\n[y]\nargs = " + child_args({"sleep"})
            + "\nenv = { FLAVOUR = \"old\" }\n[z]\nargs = " + child_args({"sleep"}) + "\n");
  auto before = pids_of(home);
  kill_daemon(home, [&] {
    std::ofstream(cfg) << "[y]\nargs = " << child_args({"sleep"})
                       << "\nenv = { FLAVOUR = \"new\" }\n[z]\nargs = " << child_args({"sleep"})
                       << "\n";
  });
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(eventually([&] { return count_of(home, "x") == 0; }, 15s));
  REQUIRE(eventually([&] {
    auto p = processes_of(home, "y");
    return p.size() == 1 && arbor::os::environ_value(p[0], "FLAVOUR") == "new";
  }, 15s));
  CHECK(instance_of(home, "y#0")["pid"] == processes_of(home, "y")[0]);
  CHECK(pids_of(home)["z#0"] == before["z#0"]); // unchanged: adopted as is
  auto apply = run_arbor({"apply", cfg}, home);
  CHECK(apply.rc == 0);
  CHECK(apply.out.find("no changes") != std::string::npos);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return processes_of_home(home).empty(); }, 10s));
}

TEST_CASE("trust: stop and restart end what a run left outside its process group") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  // A setsid child, GNU timeout (its own group) with a child, and a double
  // fork whose daemon (setsid) is reparented: 5 processes with the leader.
  auto script = "setsid sleep 1001 & timeout 1002 sleep 1002 & (setsid sleep 1003 &); "
                "exec sleep 1000";
  up_with(home, cfg,
          std::string{"[leaky]\ncommand = \"sh -c '"} + script + "'\"\nmin_uptime = 50\nkill_timeout = 2000\n");
  REQUIRE(eventually([&] { return count_of(home, "leaky") == 5; }));
  auto first = pids_of(home)["leaky#0"];

  // A crash: the new run is all that is left of the app.
  REQUIRE(::kill(first, SIGKILL) == 0);
  REQUIRE(eventually([&] {
    auto p = instance_of(home, "leaky#0")["pid"].get<int>();
    return p > 0 && p != first;
  }));
  CHECK(eventually([&] { return count_of(home, "leaky") == 5; }, 10s));
  CHECK(eventually([&] {
    return run_arbor({"events", "--json"}, home).out.find("\"leftovers\"") != std::string::npos;
  }, 5s));

  // A stop: nothing of it is left.
  REQUIRE(run_arbor({"stop", "leaky"}, home).rc == 0);
  CHECK(eventually([&] { return count_of(home, "leaky") == 0; }, 10s));

  // Started again, then the daemon dies: `down` from the next daemon still
  // ends everything (the adopted run's escaped processes are not its children).
  REQUIRE(run_arbor({"start", "leaky"}, home).rc == 0);
  REQUIRE(eventually([&] { return count_of(home, "leaky") == 5; }));
  kill_daemon(home);
  REQUIRE(run_arbor({"up", cfg}, home).rc == 0);
  CHECK(count_of(home, "leaky") == 5);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  CHECK(eventually([&] { return processes_of_home(home).empty(); }, 10s));
}

TEST_CASE("trust: stopped by hand stays stopped across a daemon crash, a scale down and up holds") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  up_with(home, cfg,
          "[held]\nargs = " + child_args({"sleep"}) + "\n[kept]\nargs = " + child_args({"sleep"})
            + "\ninstances = 2\n");
  REQUIRE(run_arbor({"stop", "held"}, home).rc == 0);
  REQUIRE(run_arbor({"scale", "kept", "1"}, home).rc == 0);
  REQUIRE(run_arbor({"scale", "kept", "2"}, home).rc == 0);
  kill_daemon(home);
  REQUIRE(run_arbor({"up", cfg}, home).rc == 0);
  CHECK(instance_of(home, "held#0")["pid"] == 0);
  CHECK(count_of(home, "held") == 0);
  CHECK(eventually([&] { return count_of(home, "kept") == 2; }));
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}
