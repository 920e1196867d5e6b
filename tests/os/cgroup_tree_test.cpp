#include <catch2/catch.hpp>

#include "os/cgroup_tree.hpp"
#include "os/proc_read.hpp"
#include "os/spawn.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "util.hpp"

using namespace arbor::os;

namespace {

std::string slurp(const std::string& path) {
  std::string out;
  read_small_file(path.c_str(), out);
  return out;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

} // namespace

TEST_CASE("ARBOR_CONTAINMENT: auto, cgroup, process-group", "[cgroup]") {
  containment_wish w{};
  CHECK(parse_containment(nullptr, w));
  CHECK(w == containment_wish::automatic);
  CHECK(parse_containment("cgroup", w));
  CHECK(w == containment_wish::cgroup);
  CHECK(parse_containment("process-group", w));
  CHECK(w == containment_wish::process_group);
  CHECK_FALSE(parse_containment("cgroups", w));
}

TEST_CASE("cgroup tree: a run starts in its cgroup, is killed whole, and its cgroup goes", "[cgroup]") {
  char tmpl[] = "/tmp/arbor-cg-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const std::string home = tmpl;
  std::string note;
  CHECK(cgroup_tree::open(home, containment_wish::process_group, note) == nullptr);
  CHECK(note.empty());
  auto tree = cgroup_tree::open(home, containment_wish::cgroup, note); // this host: root, cgroup2
  INFO(note);
  REQUIRE(tree);
  CHECK(slurp(home + "/cgroup") == tree->root() + "\n");
  CHECK(slurp(tree->root() + "/.daemon/cgroup.procs").find(std::to_string(::getpid()))
        != std::string::npos);

  cgroup_limits limits;
  limits.pids_max = 5;
  run_cgroup run;
  REQUIRE(tree->make_run("t", 0, 0x2a, limits, run) == "");
  CHECK(run.dir == tree->root() + "/t/0@000000000000002a");
  REQUIRE(run.v1.size() <= 1);
  auto pids_dir = run.v1.empty() ? run.dir : run.v1.front();
  CHECK(slurp(pids_dir + "/pids.max") == "5\n");

  spawn_plan plan("/bin/sleep", {"sleep", "100"}, {}, "");
  spawn_cgroup where;
  where.dir_fd = ::open(run.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  where.join = run.join.empty() ? nullptr : run.join_ptrs.data();
  auto r = plan.spawn(-1, -1, &where);
  ::close(where.dir_fd);
  REQUIRE(r.ok());
  auto relative = run.dir.substr(run.dir.find("/", sizeof "/sys/fs/cgroup"));
  CHECK(slurp("/proc/" + std::to_string(r.pid) + "/cgroup").find(relative) != std::string::npos);
  CHECK(tree->procs(run) == std::vector<pid_t>{r.pid});
  CHECK(tree->populated(run));
  auto listed = tree->list_runs();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].app == "t");
  CHECK(listed[0].generation == 0x2a);

  tree->kill(run);
  REQUIRE(test::reap(r.pid));
  std::atomic<bool> emptied{false};
  tree->retire(run, std::chrono::steady_clock::now(), [&] { emptied = true; });
  for (int i = 0; i < 500 && !emptied; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(emptied);
  CHECK_FALSE(exists(run.dir));

  // A dotted name nests, so no app can be taken for a cgroup file.
  run_cgroup nested;
  REQUIRE(tree->make_run("cgroup.procs", 1, 7, {}, nested) == "");
  CHECK(nested.dir == tree->root() + "/cgroup/procs/1@0000000000000007");
  listed = tree->list_runs();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].app == "cgroup.procs");
  CHECK(listed[0].index == 1);
  CHECK(listed[0].generation == 7);

  auto root = tree->root();
  tree->close_clean();
  CHECK_FALSE(exists(root));
  tree.reset();
  ::unlink((home + "/cgroup").c_str());
  ::rmdir(home.c_str());
}
