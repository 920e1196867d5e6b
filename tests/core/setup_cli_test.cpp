// `arbor import` and `arbor init` end to end: the file they write is what
// `arbor up` runs.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;
using Catch::Contains;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream{path} << text;
}

} // namespace

TEST_CASE("arbor import: a PM2 ecosystem with 3 apps is converted, started and running") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  const std::string child = ARBOR_TEST_CHILD;
  write(d.file("ecosystem.json"), R"({"apps": [
    {"name": "api", "script": ")" + child + R"(", "args": "sleep", "instances": 2, "interpreter": "none",
     "env": {"MODE": "api"}},
    {"name": "worker", "script": ")" + child + R"(", "args": ["sleep"], "exec_mode": "fork"},
    {"name": "cron", "script": ")" + child + R"(", "args": "sleep", "cron_restart": "0 4 * * *",
     "autorestart": false, "out_file": "x.log"}
  ]})");
  auto imp = run_arbor({"import", d.file("ecosystem.json"), "-o", d.file("arbor.toml")}, home);
  INFO(imp.out << imp.err);
  REQUIRE(imp.rc == 0);
  CHECK_THAT(imp.err, Contains("cron: out_file = \"x.log\" not converted"));
  auto up = run_arbor({"up", d.file("arbor.toml")}, home);
  INFO(up.out << up.err);
  REQUIRE(up.rc == 0);
  REQUIRE(eventually([&] {
    auto pids = pids_of(home);
    if (pids.size() != 4) return false;
    for (auto& [id, pid] : pids)
      if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    return true;
  }));
  CHECK(pids_of(home).count("api#1") == 1);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("arbor import: an ecosystem .js file is read by node, and without node the error says so") {
  temp_dir d;
  auto home = d.file("home");
  write(d.file("ecosystem.config.js"), "module.exports = {}\n");
  // A stand-in for node that prints what node would for this file.
  std::filesystem::create_directories(d.file("bin"));
  write(d.file("bin/node"), "#!/bin/sh\necho '{\"apps\":[{\"name\":\"a\",\"script\":\"/bin/sleep\","
                            "\"args\":\"100\",\"interpreter\":\"none\"}]}'\n");
  ::chmod(d.file("bin/node").c_str(), 0755);
  auto ok = run_program({ARBOR_BIN, "import", d.file("ecosystem.config.js")},
                        {"ARBOR_HOME=" + home, "PATH=" + d.file("bin") + ":/usr/bin:/bin"},
                        d.path.string());
  INFO(ok.out << ok.err);
  CHECK(ok.rc == 0);
  CHECK_THAT(ok.out, Contains("[a]\ncommand = \"/bin/sleep 100\""));

  write(d.file("bin/node"), "#!/bin/sh\necho 'SyntaxError: nope' >&2\nexit 1\n");
  auto bad = run_program({ARBOR_BIN, "import", d.file("ecosystem.config.js")},
                         {"ARBOR_HOME=" + home, "PATH=" + d.file("bin") + ":/usr/bin:/bin"},
                         d.path.string());
  CHECK(bad.rc == 1);
  CHECK_THAT(bad.err, Contains("node could not load"));

  auto none = run_program({ARBOR_BIN, "import", d.file("ecosystem.config.js")},
                          {"ARBOR_HOME=" + home, "PATH=" + d.file("empty")}, d.path.string());
  CHECK(none.rc == 1);
  CHECK_THAT(none.err, Contains("needs node"));
}

TEST_CASE("arbor init: a commented config that checks, never over an existing file") {
  temp_dir d;
  auto home = d.file("home");
  auto cfg = d.file("arbor.toml");
  auto r = run_arbor({"init", "node server.js", "python3 worker.py", "cat log | grep x", "-o", cfg},
                     home);
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  const std::string text = slurp(cfg);
  CHECK_THAT(text, Contains("[server]\ncommand = \"node server.js\""));
  CHECK_THAT(text, Contains("[worker]\ncommand = \"python3 worker.py\""));
  CHECK_THAT(text, Contains("[cat]\ncommand = \"cat log | grep x\"\nshell = true"));
  CHECK_THAT(text, Contains("# health_check = "));
  CHECK(run_arbor({"check", cfg}, home).rc == 0);

  auto again = run_arbor({"init", "sleep 1", "-o", cfg}, home);
  CHECK(again.rc == 1);
  CHECK_THAT(again.err, Contains("exists (--force replaces it)"));
  CHECK(slurp(cfg) == text);
  CHECK(run_arbor({"init", "sleep 1", "-o", cfg, "--force"}, home).rc == 0);
  CHECK_THAT(slurp(cfg), Contains("[sleep]\ncommand = \"sleep 1\""));
}
