// Which live process is each instance's run after a daemon crash, and which
// are strays: the kernel's list (ARBOR_ID) read with the journal's records.

#include <catch2/catch.hpp>

#include <algorithm>

#include "readopt_plan.hpp"

using namespace arbor;
using detail::plan_readoption;

namespace {

os::marked_process proc(pid_t pid, pid_t ppid, pid_t pgrp, uint64_t start, const std::string& app,
                        uint32_t index, uint64_t gen) {
  os::marked_process p;
  p.pid = pid;
  p.ppid = ppid;
  p.pgrp = pgrp;
  p.start = start;
  p.id = {gen, 7, app, index, "/home"};
  return p;
}

journal::instance_record record(const std::string& app, uint32_t index, int32_t pid,
                                uint64_t start, uint64_t gen, bool want_up = true) {
  journal::instance_record r;
  r.app = app;
  r.index = index;
  r.pid = pid;
  r.start_time = start;
  r.generation = gen;
  r.want_up = want_up;
  return r;
}

bool any_instance(const std::string&, uint32_t) { return true; }

std::vector<pid_t> pids(const std::vector<os::marked_process>& ps) {
  std::vector<pid_t> out;
  for (auto& p : ps) out.push_back(p.pid);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("readopt plan: a run with no record (killed before the journal) is adopted") {
  auto plan = plan_readoption({proc(100, 1, 100, 50, "web", 0, 9)}, {}, any_instance);
  REQUIRE(plan.runs.count("web#0") == 1);
  CHECK(plan.runs["web#0"].pid == 100);
  CHECK(plan.strays.empty());
  CHECK(plan.max_generation == 9);
}

TEST_CASE("readopt plan: a reload cut short: the newer run is adopted, the older stopped") {
  // The journal's last word is the older run's stop (it may lag the spawn).
  auto plan = plan_readoption({proc(100, 1, 100, 50, "r", 0, 5), proc(200, 1, 200, 60, "r", 0, 8)},
                              {{"r#0", record("r", 0, 0, 0, 5, false)}}, any_instance);
  REQUIRE(plan.runs.count("r#0") == 1);
  CHECK(plan.runs["r#0"].pid == 200);
  CHECK(pids(plan.strays) == std::vector<pid_t>{100});
}

TEST_CASE("readopt plan: what a dead leader left is stopped, not adopted") {
  // The journal knew this run's leader (pid 100): it is gone; 300 left the
  // group (setsid) and outlived it.
  auto left = proc(300, 1, 300, 70, "w", 0, 5);
  SECTION("the leader's record names another pid") {
    auto plan = plan_readoption({left}, {{"w#0", record("w", 0, 100, 50, 5)}}, any_instance);
    CHECK(plan.runs.empty());
    CHECK(pids(plan.strays) == std::vector<pid_t>{300});
  }
  SECTION("the record says the run ended (pid 0)") {
    auto plan = plan_readoption({left}, {{"w#0", record("w", 0, 0, 0, 5)}}, any_instance);
    CHECK(plan.runs.empty());
    CHECK(pids(plan.strays) == std::vector<pid_t>{300});
  }
  SECTION("the journal knows a newer run (it died)") {
    auto plan = plan_readoption({left}, {{"w#0", record("w", 0, 400, 90, 6)}}, any_instance);
    CHECK(plan.runs.empty());
    CHECK(pids(plan.strays) == std::vector<pid_t>{300});
    CHECK(plan.max_generation == 6);
  }
}

TEST_CASE("readopt plan: a live run keeps what it started, even outside its group") {
  // 100 leads; 101 is in its group; 102 did setsid (own group, parent 100);
  // 103 is a double fork's daemon (parent: init) started later.
  std::vector<os::marked_process> found{
    proc(103, 1, 103, 80, "d", 0, 4), proc(100, 1, 100, 50, "d", 0, 4),
    proc(101, 100, 100, 60, "d", 0, 4), proc(102, 100, 102, 70, "d", 0, 4)};
  auto plan = plan_readoption(found, {{"d#0", record("d", 0, 100, 50, 4)}}, any_instance);
  REQUIRE(plan.runs.count("d#0") == 1);
  CHECK(plan.runs["d#0"].pid == 100);
  CHECK(plan.strays.empty());
  // Without a record the oldest group leader whose parent is not of the run wins.
  plan = plan_readoption(found, {}, any_instance);
  CHECK(plan.runs["d#0"].pid == 100);
}

TEST_CASE("readopt plan: instances the config no longer has are strays") {
  std::vector<os::marked_process> found{proc(100, 1, 100, 50, "gone", 0, 3),
                                        proc(200, 1, 200, 50, "s", 0, 3),
                                        proc(201, 1, 201, 50, "s", 1, 3)};
  auto configured = [](const std::string& app, uint32_t index) { return app == "s" && index < 1; };
  auto plan = plan_readoption(found, {}, configured);
  CHECK(plan.runs.size() == 1);
  CHECK(plan.runs.count("s#0") == 1);
  CHECK(pids(plan.strays) == std::vector<pid_t>{100, 201});
}
