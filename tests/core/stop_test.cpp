// Stopping: kill_signal to the process group, SIGKILL after kill_timeout,
// reverse start order, nothing left behind.

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

TEST_CASE("tree: a process that ignores SIGTERM is SIGKILLed after kill_timeout") {
  harness h{"[stubborn]\nargs = " + child_args({"ignore-term"}) + "\nkill_timeout = 300\n"};
  h.start();
  auto started = h.wait(event_kind::child_started, "stubborn#0");
  // Wait until it has installed its SIG_IGN (it says "ready" on stdout).
  REQUIRE(wait_file(h.dir.file("logs/stubborn.out.log")) == "stubborn#0 | ready");
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(h.tree->stop(20s));
  auto took = std::chrono::steady_clock::now() - t0;
  auto killed = h.wait(event_kind::killed, "stubborn#0");
  CHECK(killed.reason.find("kill_timeout (300ms)") != std::string::npos);
  auto stopped = h.wait(event_kind::stopped, "stubborn#0");
  CHECK(stopped.reason == "signal(SIGKILL)");
  CHECK(took >= 300ms);
  CHECK(wait_gone(started.pid));
  CHECK(h.instance("stubborn#0").state == proc_state::stopped);
}

TEST_CASE("tree: kill_signal is what the app gets on stop") {
  harness h{"[polite]\nargs = " + child_args({"sleep"}) + "\nkill_signal = \"SIGINT\"\n"};
  h.start();
  h.wait(event_kind::child_started, "polite#0");
  REQUIRE(h.tree->stop(10s));
  auto stopped = h.wait(event_kind::stopped, "polite#0");
  CHECK(stopped.reason == "signal(SIGINT)");
}

TEST_CASE("tree: stopping leaves no grandchild behind") {
  temp_dir d;
  auto pidfile = d.file("grandchild.pid");
  harness h{"[forker]\nargs = " + child_args({"grandchild", pidfile}) + "\n"};
  h.start();
  auto started = h.wait(event_kind::child_started, "forker#0");
  auto gpid = std::stoi(wait_file(pidfile));
  REQUIRE(gpid > 0);
  REQUIRE(::kill(gpid, 0) == 0);
  REQUIRE(h.tree->stop(10s));
  CHECK(wait_gone(started.pid));
  CHECK(wait_gone(gpid));
}

TEST_CASE("tree: a crash does not leave the old run's grandchild behind") {
  temp_dir d;
  auto pidfile = d.file("grandchild.pid");
  harness h{"[forker]\nargs = " + child_args({"grandchild", pidfile, "exit"})
            + "\nrestart = \"never\"\n"};
  h.start();
  h.wait(event_kind::child_exited, "forker#0");
  auto gpid = std::stoi(wait_file(pidfile));
  CHECK(wait_gone(gpid));
}

TEST_CASE("tree: apps stop in reverse start order, file order is start order") {
  auto sleeper = child_args({"sleep"});
  harness h{"[zeta]\nargs = " + sleeper + "\n[alpha]\nargs = " + sleeper
            + "\n[mid.beta]\nargs = " + sleeper + "\n"};
  h.start();
  std::vector<std::string> started;
  for (int i = 0; i < 3; ++i) started.push_back(h.wait(event_kind::child_started).offender);
  // Start messages go out in order; spawns of different apps may interleave,
  // so check what the tree reports as its order.
  auto st = h.tree->status();
  REQUIRE(st);
  REQUIRE(st->children.size() == 3);
  CHECK(st->children[0].name == "zeta");
  CHECK(st->children[1].name == "alpha");
  CHECK(st->children[2].name == "mid");
  REQUIRE(h.tree->stop(10s));
  std::vector<std::string> stopping;
  for (int i = 0; i < 3; ++i) stopping.push_back(h.wait(event_kind::stopping).offender);
  CHECK(stopping == std::vector<std::string>{"mid.beta#0", "alpha#0", "zeta#0"});
}

TEST_CASE("tree: instances get ARBOR_APP, ARBOR_INSTANCE, PORT, their output merges with prefixes") {
  harness h{"[grp.envy]\nargs = " + child_args({"env"})
            + "\ninstances = 2\nport = 4100\nrestart = \"never\"\n"
              "env = { GREETING = \"hi there\" }\n"};
  h.start();
  h.wait(event_kind::stays_down, "grp.envy#0");
  h.wait(event_kind::stays_down, "grp.envy#1");
  // The pump writes asynchronously: wait until both instances' last lines are in.
  auto file = h.dir.file("logs/grp.envy.out.log");
  std::string all;
  for (int tries = 0; tries < 500; ++tries) {
    std::ifstream in(file);
    all.assign(std::istreambuf_iterator<char>(in), {});
    if (all.find("grp.envy#0 | PORT=") != std::string::npos
        && all.find("grp.envy#1 | PORT=") != std::string::npos)
      break;
    std::this_thread::sleep_for(10ms); // another thread's file: nothing to wait on
  }
  for (int i = 0; i < 2; ++i) {
    auto p = "grp.envy#" + std::to_string(i) + " | ";
    CHECK(all.find(p + "ARBOR_APP=grp.envy\n") != std::string::npos);
    CHECK(all.find(p + "ARBOR_INSTANCE=" + std::to_string(i) + "\n") != std::string::npos);
    CHECK(all.find(p + "PORT=" + std::to_string(4100 + i) + "\n") != std::string::npos);
    CHECK(all.find(p + "GREETING=hi there\n") != std::string::npos);
  }
}

TEST_CASE("tree: start after stop runs the app again") {
  harness h{"[again]\nargs = " + child_args({"sleep"}) + "\n"};
  h.start();
  auto first = h.wait(event_kind::child_started, "again#0");
  REQUIRE(h.tree->stop(10s));
  h.start();
  auto second = h.wait(event_kind::child_started, "again#0");
  CHECK(second.pid != first.pid);
  CHECK(h.instance("again#0").state == proc_state::running);
}

TEST_CASE("tree: an unwritable log file loses output, not the app, and counts the loss") {
  harness h{"[quiet]\nargs = " + child_args({"print", "hello"}) + "\n"};
  // A directory where the log file should be: open() fails even for root.
  std::filesystem::create_directories(h.dir.file("logs/quiet.out.log"));
  h.start();
  auto started = h.wait(event_kind::child_started, "quiet#0");
  log_stats st;
  for (int tries = 0; tries < 500 && st.bytes_dropped == 0; ++tries) {
    st = h.tree->logs_of("quiet");
    std::this_thread::sleep_for(10ms); // the pump thread's counters
  }
  CHECK(st.bytes_dropped > 0);
  CHECK(st.last_error.find("quiet.out.log") != std::string::npos);
  CHECK(h.instance("quiet#0").state == proc_state::running);
  CHECK(h.instance("quiet#0").pid == started.pid);
}
