#include <catch2/catch.hpp>

#include "policy/backoff.hpp"

using namespace std::chrono_literals;
using arbor::backoff;

TEST_CASE("backoff: doubles from the base for each consecutive short run") {
  backoff b{100ms, 30000ms};
  CHECK(b.delay(0) == 100ms);
  CHECK(b.delay(1) == 200ms);
  CHECK(b.delay(2) == 400ms);
  CHECK(b.delay(3) == 800ms);
  CHECK(b.delay(8) == 25600ms);
}

TEST_CASE("backoff: caps at the maximum and never overflows") {
  backoff b{100ms, 30000ms};
  CHECK(b.delay(9) == 30000ms);
  CHECK(b.delay(63) == 30000ms);
  CHECK(b.delay(64) == 30000ms);
  CHECK(b.delay(4000000000u) == 30000ms);
}

TEST_CASE("backoff: tunable base and max") {
  backoff b{5ms, 12ms};
  CHECK(b.delay(0) == 5ms);
  CHECK(b.delay(1) == 10ms);
  CHECK(b.delay(2) == 12ms);
  backoff zero{0ms, 100ms};
  CHECK(zero.delay(5) == 0ms);
}
