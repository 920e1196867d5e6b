// Commands that cannot run put the app into failed at once: no crash loop.

#include <catch2/catch.hpp>

#include <fstream>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

TEST_CASE("tree: a missing binary fails the app immediately, without a crash loop") {
  harness h{"[ghost]\ncommand = \"/nonexistent/arbor-no-such-binary --flag\"\ninstances = 2\n"};
  h.start();
  auto f = h.wait(event_kind::spawn_failed, "ghost#0");
  CHECK(f.reason.find("/nonexistent/arbor-no-such-binary") != std::string::npos);
  h.wait(event_kind::spawn_failed, "ghost#1");
  auto st = h.instance("ghost#0");
  CHECK(st.state == proc_state::failed);
  CHECK(st.pid == 0);
  CHECK(h.count(event_kind::child_started) == 0);
  auto tree = h.tree->status();
  REQUIRE(tree);
  CHECK(tree->state == "failed");
}

TEST_CASE("tree: a command not on PATH fails with command not found") {
  harness h{"[typo]\ncommand = \"arbor-surely-not-a-command-xyz\"\n"};
  h.start();
  auto f = h.wait(event_kind::spawn_failed, "typo#0");
  CHECK(f.reason.find("not found") != std::string::npos);
}

TEST_CASE("tree: a missing cwd fails the app with the reason") {
  harness h{"[lost]\nargs = " + child_args({"sleep"}) + "\ncwd = \"/nonexistent-arbor-dir\"\n"};
  h.start();
  auto f = h.wait(event_kind::spawn_failed, "lost#0");
  CHECK(f.reason.find("/nonexistent-arbor-dir") != std::string::npos);
}

TEST_CASE("tree: a file without execute permission fails the app") {
  temp_dir d;
  auto script = d.file("script.sh");
  { std::ofstream(script) << "#!/bin/sh\nexit 0\n"; }
  harness h{"[noexec]\ncommand = \"" + script + "\"\n"};
  h.start();
  auto f = h.wait(event_kind::spawn_failed, "noexec#0");
  CHECK(f.reason.find("executable") != std::string::npos);
}

TEST_CASE("tree: a shell command that is not found gives up instead of looping") {
  harness h{"[sh]\ncommand = \"arbor-surely-not-a-command-xyz\"\nshell = true\n"};
  h.start();
  auto g = h.wait(event_kind::gave_up, "sh#0");
  CHECK(g.reason.find("127") != std::string::npos);
  CHECK(h.count(event_kind::child_started, "sh#0") == 1);
}
