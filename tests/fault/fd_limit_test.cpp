// The daemon runs out of file descriptors: its RLIMIT_NOFILE (soft and hard)
// is lowered from outside with prlimit(2) to a few more than it has open,
// then an app is scaled up until spawning must fail (every instance needs
// two pipes and a pidfd). The failure is reported, the daemon keeps
// answering, running instances are untouched, and with the limit raised
// again `start` and `scale` work.

#include <catch2/catch.hpp>

#include <sstream>
#include <sys/resource.h>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

/// Puts the daemon's soft limit back up to its (lowered) hard limit whatever
/// happens, so that it can stop.
struct limit_restorer {
  int pid;
  rlimit raised;
  ~limit_restorer() { ::prlimit(pid, RLIMIT_NOFILE, &raised, nullptr); }
};

/// The limit that leaves `spare` descriptor numbers free below it.
rlim_t limit_with_spare(const std::set<int>& used, int spare) {
  int free = 0;
  for (int n = 0;; ++n) {
    if (used.count(n)) continue;
    if (++free == spare) return static_cast<rlim_t>(n + 1);
  }
}

} // namespace

TEST_CASE("fault: the daemon at its descriptor limit reports failed spawns, keeps serving, "
          "recovers") {
  fault_daemon fd;
  auto env = fd.app_env();
  fd.up("[base]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\n" + env
        + "[grow]\nargs = " + child_args({"print", "hello"}) + "\n" + env);
  auto before = pids_of(fd.home);
  REQUIRE(before.at("base#0") > 0);
  REQUIRE(before.at("grow#0") > 0);

  // The last CLI connection may still be closing: let the count settle.
  std::set<int> used;
  wait_until([&] {
    auto now = open_fds(fd.pid);
    bool same = now == used;
    used = now;
    return same;
  }, 2s);
  // Soft limit: 8 spare. The `scale` connection takes one, one instance
  // five (two pipes, a pidfd), and the next no more than part of its pipes.
  // The hard limit goes down too, but stays high enough for the recovery:
  // raising a hard limit needs CAP_SYS_RESOURCE, which a container may lack.
  const rlim_t soft = limit_with_spare(used, 8), hard = limit_with_spare(used, 128);
  rlimit low{soft, hard}, raised{hard, hard};
  REQUIRE(::prlimit(fd.pid, RLIMIT_NOFILE, &low, nullptr) == 0);
  limit_restorer restore{fd.pid, raised};

  auto scale = fd.cli({"scale", "grow", "6"}, 30s);
  INFO("scale: rc " << scale.rc << " " << scale.out << scale.err);
  CHECK(scale.rc != -1); // answered, did not hang

  // The daemon answers (its `scale` connection freed a descriptor) and says
  // which instances could not be started, and why.
  auto st = fd.json({"status"});
  std::vector<std::string> failed;
  for (auto& i : st["instances"]) {
    auto id = i["id"].get<std::string>();
    if (id.rfind("grow#", 0) == 0 && i["state"] == "failed") {
      failed.push_back(id);
      CHECK(i["pid"] == 0);
      CHECK(i["reason"].get<std::string>().find("Too many open files") != std::string::npos);
    }
  }
  INFO(st.dump());
  REQUIRE(st["instances"].size() == 8);
  REQUIRE(!failed.empty());
  // Events reach `arbor events` through the bus, asynchronously: wait.
  size_t spawn_failed = 0;
  CHECK(eventually([&] {
    auto events = fd.cli({"events", "-n", "100", "--json"});
    REQUIRE(events.rc == 0);
    spawn_failed = 0;
    std::istringstream lines(events.out);
    for (std::string l; std::getline(lines, l);) {
      auto e = nlohmann::json::parse(l);
      if (e["event"] == "spawn_failed"
          && e["reason"].get<std::string>().find("Too many open files") != std::string::npos)
        ++spawn_failed;
    }
    return spawn_failed >= failed.size();
  }, 5s));
  CHECK(spawn_failed == failed.size());

  // What ran before runs on, untouched.
  auto during = pids_of(fd.home);
  for (auto id : {"base#0", "base#1", "grow#0"}) CHECK(during.at(id) == before.at(id));

  // Descriptors again: start brings the failed instances up, with their
  // output captured; scale works.
  REQUIRE(::prlimit(fd.pid, RLIMIT_NOFILE, &raised, nullptr) == 0);
  auto start = fd.cli({"start", "grow"});
  INFO(start.err);
  CHECK(start.rc == 0);
  auto after = pids_of(fd.home);
  for (int i = 0; i < 6; ++i) CHECK(after.at("grow#" + std::to_string(i)) > 0);
  for (auto id : {"base#0", "base#1", "grow#0"}) CHECK(after.at(id) == before.at(id));
  auto outlog = fd.home + "/logs/grow.out.log";
  for (auto& id : failed)
    CHECK(wait_until([&] { return slurp(outlog).find(id + " | hello\n") != std::string::npos; }));
  CHECK(fd.cli({"scale", "grow", "8"}).rc == 0);
  auto scaled = pids_of(fd.home);
  CHECK(scaled.at("grow#7") > 0);
  CHECK(is_up(fd.instance("grow#7")["state"]));
  fd.down_and_check_clean();
}
