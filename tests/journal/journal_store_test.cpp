#include <catch2/catch.hpp>

#include <filesystem>

#include <mutex>

#include "journal/journal_store.hpp"
#include "../keeper/helpers.hpp"
#include "records.hpp"

#include <chrono>
#include <string>

using namespace arbor::journal;
using namespace arbor::keeper::test;
using namespace arbor::journal::test;
using namespace std::chrono_literals;

namespace {

journal on_disk(const std::string& path) {
  std::string err;
  auto j = read_journal(path, err);
  INFO(err);
  REQUIRE(j);
  return *j;
}

} // namespace

TEST_CASE("journal_store: changes reach the file, flush waits for them") {
  temp_dir dir;
  auto path = dir / "state.json";
  journal_store store{path};
  CHECK(store.flush()); // nothing to write yet
  CHECK_FALSE(exists(path));
  store.set_meta(77, "/etc/apps.toml");
  store.put(rec("web", 10, 1));
  store.put(rec("web", 2, 2));
  store.put(rec("api", 0, 3));
  store.set_scale("web", 11);
  std::string err;
  REQUIRE(store.flush(&err));
  CHECK(err.empty());
  journal j = on_disk(path);
  CHECK(j == store.snapshot());
  CHECK(j.daemon_pid == 77);
  CHECK(j.config == "/etc/apps.toml");
  CHECK(j.scale.at("web") == 11);
  REQUIRE(j.instances.size() == 3);
  // Sorted by (app, index): numerically, not as text.
  CHECK(j.instances[0].app == "api");
  CHECK(j.instances[1].index == 2);
  CHECK(j.instances[2].index == 10);

  store.put(rec("web", 2, 20, 1)); // a restart replaces the record
  store.erase("api", 0);
  REQUIRE(store.flush());
  j = on_disk(path);
  REQUIRE(j.instances.size() == 2);
  CHECK(j.instances[0].pid == 20);
  CHECK(j.instances[0].restarts == 1);

  store.erase_app("web");
  REQUIRE(store.flush());
  j = on_disk(path);
  CHECK(j.instances.empty());
  CHECK(j.scale.empty());
}

TEST_CASE("journal_store: an unchanged put writes nothing, a burst is one write") {
  temp_dir dir;
  auto path = dir / "state.json";
  store_options opts;
  opts.delay = 200ms; // gathers the burst (flush() cuts it short)
  opts.quiet_compact = 0ms; // no write of its own in between
  journal_store store{path, opts};
  store.put(rec("web", 0, 1));
  REQUIRE(store.flush());
  const uint64_t after_first = store.writes();
  CHECK(after_first == 1);
  store.put(rec("web", 0, 1)); // the same record
  store.set_scale("web", 0);
  store.set_scale("web", 0);
  REQUIRE(store.flush());
  CHECK(store.writes() == 2); // only set_scale changed something

  for (uint32_t i = 0; i < 1000; ++i)
    store.put(rec("burst", i, static_cast<int32_t>(i + 1)));
  REQUIRE(store.flush());
  CHECK(store.writes() <= 4); // 1000 puts, a handful of writes
  CHECK(on_disk(path).instances.size() == 1001);
}

TEST_CASE("journal_store: the destructor writes what is pending") {
  temp_dir dir;
  auto path = dir / "state.json";
  {
    store_options opts;
    opts.delay = 10s; // without the destructor's flush nothing would be written in time
    journal_store store{path, opts};
    store.put(rec("web", 0, 5));
  }
  CHECK(on_disk(path).instances.at(0).pid == 5);
}

TEST_CASE("journal_store: load replaces the contents, a failed write is reported") {
  temp_dir dir;
  journal seed;
  seed.daemon_pid = 9;
  seed.instances.push_back(rec("old", 0, 4));
  {
    journal_store store{dir / "state.json"};
    store.load(seed);
    REQUIRE(store.flush());
    CHECK(on_disk(dir / "state.json") == seed);
  }
  std::mutex m;
  std::vector<std::string> told;
  store_options opts;
  opts.on_failure = [&](const std::string& e) {
    std::lock_guard<std::mutex> g{m};
    told.push_back(e);
  };
  journal_store broken{dir / "missing/state.json", opts};
  broken.put(rec("web", 0, 1));
  std::string err;
  CHECK_FALSE(broken.flush(&err));
  CHECK_THAT(err, Catch::Contains("No such file or directory"));
  CHECK(broken.last_error() == err);
  CHECK(broken.writes() == 0);
  broken.put(rec("web", 0, 2));
  CHECK_FALSE(broken.flush());
  // Told once per outage, and when writes succeed again.
  std::filesystem::create_directories(dir / "missing");
  broken.put(rec("web", 0, 3));
  CHECK(broken.flush());
  std::lock_guard<std::mutex> g{m};
  REQUIRE(told.size() == 2);
  CHECK(told[0] == err);
  CHECK(told[1].empty());
}
