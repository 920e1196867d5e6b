#include <catch2/catch.hpp>

#include "policy/memory_watch.hpp"

using arbor::memory_watch;

namespace {
constexpr uint64_t mib = 1024 * 1024;
} // namespace

TEST_CASE("memory_watch: two samples in a row above the limit trigger") {
  memory_watch w{100 * mib};
  CHECK_FALSE(w.add(50 * mib));
  CHECK(w.over() == 0);
  CHECK_FALSE(w.add(150 * mib));
  CHECK(w.over() == 1);
  CHECK(w.add(150 * mib));
  CHECK(w.over() == 0); // fired: the run starts over
}

TEST_CASE("memory_watch: a sample at or below the limit breaks the run") {
  memory_watch w{100 * mib, 3};
  CHECK_FALSE(w.add(101 * mib));
  CHECK_FALSE(w.add(200 * mib));
  CHECK_FALSE(w.add(100 * mib)); // exactly the limit is not above it
  CHECK(w.over() == 0);
  CHECK_FALSE(w.add(101 * mib));
  CHECK_FALSE(w.add(101 * mib));
  CHECK(w.add(101 * mib));
}

TEST_CASE("memory_watch: after firing, a restart needs consecutive fresh samples again") {
  memory_watch w{100 * mib, 2};
  CHECK_FALSE(w.add(200 * mib));
  CHECK(w.add(200 * mib));
  CHECK_FALSE(w.add(200 * mib));
  CHECK(w.add(200 * mib));
  CHECK_FALSE(w.add(200 * mib));
  CHECK_FALSE(w.add(10 * mib));
  CHECK_FALSE(w.add(200 * mib));
  CHECK(w.add(200 * mib));
}

TEST_CASE("memory_watch: consecutive 1 fires on every sample above, 0 means 1") {
  for (uint32_t n : {0u, 1u}) {
    INFO(n);
    memory_watch w{100, n};
    CHECK_FALSE(w.add(100));
    CHECK(w.add(101));
    CHECK(w.add(101));
  }
}

TEST_CASE("memory_watch: reset forgets samples above the limit") {
  memory_watch w{100, 2};
  CHECK_FALSE(w.add(101));
  CHECK(w.over() == 1);
  w.reset();
  CHECK(w.over() == 0);
  CHECK_FALSE(w.add(101));
  CHECK(w.add(101));
}
