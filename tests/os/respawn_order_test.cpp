// Standing respawn orders: the watcher restarts a child itself, right after
// reaping it, when the order is armed and its policy says so.

#include <catch2/catch.hpp>

#include "os/exit_watcher.hpp"
#include "os/spawn.hpp"
#include "collector.hpp"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::os::test::collector;
using namespace std::chrono_literals;

namespace {

const std::string child_bin = ARBOR_TEST_CHILD;

std::shared_ptr<respawn_order> make_order(std::shared_ptr<const spawn_plan> plan, bool answer) {
  auto o = std::make_shared<respawn_order>();
  o->plan = std::move(plan);
  o->decide = [answer](const exit_record&, std::chrono::milliseconds) { return answer; };
  return o;
}

std::shared_ptr<spawn_plan> sleeper_plan(const std::string& bin = child_bin) {
  return std::make_shared<spawn_plan>(bin, std::vector<std::string>{bin, "sleep"},
                                      current_environment(), "");
}

/// Kills and reaps children the test still owns (they are no longer watched).
void cleanup(const std::vector<pid_t>& pids) {
  for (auto p : pids) {
    ::kill(-p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
}

} // namespace

TEST_CASE("respawn_order: an armed order restarts the child on the watcher thread") {
  auto plan = sleeper_plan();
  auto order = make_order(plan, true);
  collector c;
  std::vector<pid_t> left;
  {
    exit_watcher w;
    auto first = plan->spawn(-1, -1);
    REQUIRE(first.ok());
    REQUIRE_FALSE(w.watch(first.pid, c.make(), order, std::chrono::steady_clock::now()));
    REQUIRE(::kill(first.pid, SIGKILL) == 0);
    auto rs = c.wait_for(1);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].pid == first.pid);
    CHECK(rs[0].signaled);
    REQUIRE(rs[0].respawned_pid > 0);
    CHECK(rs[0].respawned_pid != first.pid);
    CHECK(rs[0].respawned_at >= rs[0].at);
    CHECK(::kill(rs[0].respawned_pid, 0) == 0);
    // The replacement is watched under the same order: it chains.
    REQUIRE(::kill(rs[0].respawned_pid, SIGKILL) == 0);
    rs = c.wait_for(2);
    REQUIRE(rs.size() == 2);
    CHECK(rs[1].pid == rs[0].respawned_pid);
    REQUIRE(rs[1].respawned_pid > 0);
    left = w.disarm(order.get());
    CHECK(left == std::vector<pid_t>{rs[1].respawned_pid});
  }
  cleanup(left);
}

TEST_CASE("respawn_order: the policy saying no means no respawn") {
  auto plan = sleeper_plan();
  collector c;
  exit_watcher w;
  auto first = plan->spawn(-1, -1);
  REQUIRE(first.ok());
  std::chrono::milliseconds seen{-1};
  auto order = std::make_shared<respawn_order>();
  order->plan = plan;
  order->decide = [&seen](const exit_record& r, std::chrono::milliseconds up) {
    seen = up;
    return r.code == 0; // only clean exits would restart
  };
  auto started = std::chrono::steady_clock::now() - 5s;
  REQUIRE_FALSE(w.watch(first.pid, c.make(), order, started));
  ::kill(first.pid, SIGKILL);
  auto rs = c.wait_for(1);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].respawned_pid == 0);
  CHECK(rs[0].respawn_error == 0);
  CHECK(seen >= 5s); // uptime measured from the given start
  CHECK(w.watched() == 0);
}

TEST_CASE("respawn_order: after disarm the watcher never respawns") {
  auto plan = sleeper_plan();
  auto order = make_order(plan, true);
  collector c;
  exit_watcher w;
  auto first = plan->spawn(-1, -1);
  REQUIRE(first.ok());
  REQUIRE_FALSE(w.watch(first.pid, c.make(), order, std::chrono::steady_clock::now()));
  auto pids = w.disarm(order.get());
  CHECK(pids == std::vector<pid_t>{first.pid});
  CHECK_FALSE(order->armed);
  ::kill(first.pid, SIGTERM);
  auto rs = c.wait_for(1);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].respawned_pid == 0);
  CHECK(w.watched() == 0);
}

TEST_CASE("respawn_order: a respawn that cannot exec reports the error") {
  // A copy of the test child that disappears after the first start.
  auto dir = std::filesystem::temp_directory_path() / ("arbor-respawn-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto bin = (dir / "child").string();
  std::filesystem::copy_file(child_bin, bin, std::filesystem::copy_options::overwrite_existing);
  ::chmod(bin.c_str(), 0755);
  auto plan = sleeper_plan(bin);
  auto order = make_order(plan, true);
  collector c;
  exit_watcher w;
  auto first = plan->spawn(-1, -1);
  REQUIRE(first.ok());
  REQUIRE_FALSE(w.watch(first.pid, c.make(), order, std::chrono::steady_clock::now()));
  std::filesystem::remove_all(dir);
  ::kill(first.pid, SIGKILL);
  auto rs = c.wait_for(1);
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].respawned_pid == 0);
  CHECK(rs[0].respawn_error == ENOENT);
  CHECK(rs[0].respawn_what.find(bin) != std::string::npos);
  CHECK(w.watched() == 0);
}

TEST_CASE("exit_watcher: pids() lists what is watched") {
  auto plan = sleeper_plan();
  collector c;
  exit_watcher w;
  auto a = plan->spawn(-1, -1);
  auto b = plan->spawn(-1, -1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE_FALSE(w.watch(a.pid, c.make()));
  REQUIRE_FALSE(w.watch(b.pid, c.make()));
  auto pids = w.pids();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{std::min(a.pid, b.pid), std::max(a.pid, b.pid)});
  ::kill(a.pid, SIGKILL);
  c.wait_for(1);
  CHECK(w.pids() == std::vector<pid_t>{b.pid});
  ::kill(b.pid, SIGKILL);
  c.wait_for(2);
  CHECK(w.pids().empty());
}
