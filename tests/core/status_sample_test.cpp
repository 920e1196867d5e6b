// Memory and CPU in `status` for apps without max_memory: nothing samples
// them periodically, the status request does (at most once a second).

#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

/// Polls status (bounded) until `pred` holds for instance `id`.
template <class Pred>
instance_status status_until(harness& h, const std::string& id, Pred pred,
                             std::chrono::milliseconds timeout = 10s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  auto x = h.instance(id);
  while (!pred(x) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms); // status is pulled: poll it
    x = h.instance(id);
  }
  return x;
}

} // namespace

TEST_CASE("status: an app without max_memory shows its tree's RSS, sampled on request") {
  // A sampler interval of an hour: a periodic pass would come far too late.
  harness h{"[fat]\nargs = " + child_args({"tree", "2", "16"}) + "\n", std::chrono::hours(1)};
  h.start();
  h.wait(event_kind::child_started, "fat#0");
  auto x = status_until(h, "fat#0", [](const instance_status& i) {
    return i.memory_bytes >= 32 * 1024 * 1024;
  });
  CHECK(x.memory_bytes >= 32 * 1024 * 1024); // the two children are counted
  CHECK(x.memory_bytes < 64 * 1024 * 1024);
}

TEST_CASE("status: CPU% of an app without max_memory, over the time between requests") {
  harness h{"[busy]\nargs = " + child_args({"spin"}) + "\n[idle]\nargs = "
              + child_args({"sleep"}) + "\n",
            1s};
  h.start();
  h.wait(event_kind::child_started, "busy#0");
  h.wait(event_kind::child_started, "idle#0");
  auto busy = status_until(h, "busy#0", [](const instance_status& i) {
    return i.cpu_percent > 5; // ~100 alone; CI load can starve a spinner
  });
  CHECK(busy.cpu_percent > 5);
  CHECK(busy.memory_bytes > 0);
  auto idle = status_until(h, "idle#0", [](const instance_status& i) {
    return i.cpu_percent >= 0;
  });
  CHECK(idle.cpu_percent >= 0);
  CHECK(idle.cpu_percent < 5);
  CHECK(idle.memory_bytes > 0);
}

TEST_CASE("status: an instance stopped by SIGSTOP says so in its reason, and not after SIGCONT") {
  harness h{"[frozen]\nargs = " + child_args({"sleep"}) + "\n"};
  h.start();
  h.wait(event_kind::child_started, "frozen#0");
  auto pid = h.instance("frozen#0").pid;
  REQUIRE(pid > 0);
  REQUIRE(::kill(pid, SIGSTOP) == 0);
  auto stopped = status_until(h, "frozen#0", [](const instance_status& i) {
    return i.reason.rfind("stopped by a signal", 0) == 0;
  });
  CHECK(stopped.reason == "stopped by a signal: `arbor signal CONT frozen#0` resumes it");
  CHECK(stopped.pid == pid);
  REQUIRE(::kill(pid, SIGCONT) == 0);
  auto resumed = status_until(h, "frozen#0", [](const instance_status& i) {
    return i.reason.empty();
  });
  CHECK(resumed.reason.empty());
}
