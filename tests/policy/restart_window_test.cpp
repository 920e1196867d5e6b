#include <catch2/catch.hpp>

#include "policy/restart_window.hpp"

using namespace std::chrono_literals;
using arbor::restart_window;

namespace {
const restart_window::time_point t0{}; // injected steady time: 0 + offsets
} // namespace

TEST_CASE("restart_window: exactly intensity restarts fit in the period, the next is refused") {
  restart_window w{3, 5000ms};
  CHECK(w.add(t0));
  CHECK(w.add(t0 + 1000ms));
  CHECK(w.add(t0 + 2000ms));
  CHECK(w.count(t0 + 2000ms) == 3);
  CHECK_FALSE(w.add(t0 + 3000ms));
  CHECK(w.count(t0 + 3000ms) == 4);
}

TEST_CASE("restart_window: events as old as the period have expired") {
  restart_window w{2, 5000ms};
  CHECK(w.add(t0));
  CHECK(w.add(t0 + 1000ms));
  CHECK(w.count(t0 + 4999ms) == 2);
  CHECK(w.count(t0 + 5000ms) == 1); // the window is (now - period, now]
  CHECK(w.add(t0 + 5000ms));        // t0 dropped out: 2 in the window
  CHECK_FALSE(w.add(t0 + 5999ms));  // t0+1000, t0+5000, t0+5999
  CHECK(w.add(t0 + 12000ms));       // everything before t0+7000 expired
  CHECK(w.count(t0 + 12000ms) == 1);
  CHECK(w.count(t0 + 60000ms) == 0);
}

TEST_CASE("restart_window: a steady trickle slower than intensity/period never gives up") {
  restart_window w{5, 60000ms};
  for (int i = 0; i < 100; ++i) {
    INFO(i);
    REQUIRE(w.add(t0 + i * 12001ms)); // at most 5 within any 60 s
  }
  CHECK(w.count(t0 + 99 * 12001ms) == 5);
}

TEST_CASE("restart_window: a burst gives up, the window forgives once it passes") {
  restart_window w{1, 1000ms};
  CHECK(w.add(t0));
  CHECK_FALSE(w.add(t0 + 10ms));
  CHECK_FALSE(w.add(t0 + 999ms)); // a refused event still counts
  CHECK(w.add(t0 + 2000ms));
}

TEST_CASE("restart_window: intensity 0 refuses the first restart") {
  restart_window w{0, 1000ms};
  CHECK_FALSE(w.add(t0));
}

TEST_CASE("restart_window: reset forgets every event") {
  restart_window w{2, 10000ms};
  CHECK(w.add(t0));
  CHECK(w.add(t0 + 1ms));
  CHECK_FALSE(w.add(t0 + 2ms));
  w.reset();
  CHECK(w.count(t0 + 3ms) == 0);
  CHECK(w.add(t0 + 3ms));
  CHECK(w.add(t0 + 4ms));
  CHECK_FALSE(w.add(t0 + 5ms));
}
