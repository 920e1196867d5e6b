// The journal's change log: replay, torn appends, and what a reader finds
// at every point where a compaction can be cut short (the files are laid out
// as the crash would leave them).

#include <catch2/catch.hpp>

#include "journal/journal_log.hpp"
#include "journal/journal_store.hpp"
#include "../keeper/helpers.hpp"
#include "records.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace arbor::journal;
using namespace arbor::keeper::test;
using namespace arbor::journal::test;
using namespace std::chrono_literals;

namespace {

journal_change put_c(instance_record r) {
  journal_change c;
  c.record = std::move(r);
  return c;
}

journal_change app_c(journal_change::op what, const std::string& app, uint32_t index = 0,
                     uint32_t n = 0) {
  journal_change c;
  c.what = what;
  c.record.app = app;
  c.record.index = index;
  c.n = n;
  return c;
}

journal read_ok(const std::string& path) {
  std::string err;
  auto j = read_journal(path, err);
  INFO(err);
  REQUIRE(err.empty());
  REQUIRE(j);
  return *j;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/// A store that never compacts on its own (only at its first write).
store_options no_compaction() {
  store_options o;
  o.compact_min = uint64_t{1} << 40;
  o.quiet_compact = 0ms;
  return o;
}

} // namespace

TEST_CASE("journal log: replay applies lines in order, erase and erase_app included") {
  journal j;
  j.daemon_pid = 1;
  j.scale = {{"web", 2}, {"db", 1}};
  j.instances = {rec("db", 0, 10), rec("web", 0, 20), rec("web", 1, 21)};
  using op = journal_change::op;
  std::string text = encode_log_header(77);
  std::vector<journal_change> changes = {
    put_c(rec("web", 0, 30, 1)), put_c(rec("web", 0, 31, 2)), // the later one wins
    app_c(op::erase, "web", 1),
    put_c(rec("api", 3, 40)), app_c(op::erase, "api", 3), put_c(rec("api", 3, 41)),
    app_c(op::erase_app, "db"), put_c(rec("db", 2, 50)),     // erased, then back
    app_c(op::scale, "web", 0, 5),
  };
  journal_change meta;
  meta.what = op::meta;
  meta.daemon_pid = 99;
  meta.config = "/etc/new.toml";
  changes.push_back(meta);
  journal expected = j;
  for (auto& c : changes) {
    encode_change(c, text);
    apply_change(expected, c);
  }
  std::string err;
  journal got = j;
  auto res = replay_log(text, 77, got, err);
  CHECK(err.empty());
  CHECK(res.matched);
  CHECK_FALSE(res.torn);
  CHECK(res.applied == changes.size());
  CHECK(got == expected);
  REQUIRE(got.instances.size() == 3);
  CHECK(got.instances[0].app == "api");
  CHECK(got.instances[0].pid == 41);
  CHECK(got.instances[1].app == "db");
  CHECK(got.instances[1].index == 2);
  CHECK(got.instances[2].pid == 31);
  CHECK(got.scale == std::map<std::string, uint32_t>{{"web", 5}}); // db's went with erase_app
  CHECK(got.daemon_pid == 99);
  CHECK(got.config == "/etc/new.toml");

  // Another snapshot's log is not replayed at all.
  got = j;
  res = replay_log(text, 78, got, err);
  CHECK_FALSE(res.matched);
  CHECK(got == j);
  CHECK(err.empty());
}

TEST_CASE("journal log: a torn last line is ignored, a corrupt complete one stops the replay") {
  temp_dir dir;
  auto path = dir / "state.json";
  journal base;
  base.instances = {rec("web", 0, 1), rec("web", 1, 2)};
  std::string err;
  REQUIRE(write_atomic(path, base, err, false, 4242));
  std::string header = encode_log_header(4242);
  std::string l1, l2;
  encode_change(put_c(rec("web", 0, 11, 1)), l1);
  encode_change(put_c(rec("web", 1, 12, 1)), l2);
  journal after1 = base, after2 = base;
  apply_change(after1, put_c(rec("web", 0, 11, 1)));
  apply_change(after2, put_c(rec("web", 0, 11, 1)));
  apply_change(after2, put_c(rec("web", 1, 12, 1)));

  // Every length the append can be cut at: whole lines count, a part never.
  const std::string full = header + l1 + l2;
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    INFO("log cut at " << cut << " of " << full.size());
    write_file(log_path(path), full.substr(0, cut));
    journal want = cut < header.size() + l1.size()            ? base
                   : cut < header.size() + l1.size() + l2.size() ? after1
                                                                 : after2;
    CHECK(read_ok(path) == want);
  }

  // A complete line that is not a change: what came before it stays applied.
  write_file(log_path(path), header + l1 + "{\"op\":\"put\",\"app\":\"web\"}\n" + l2);
  auto j = read_journal(path, err);
  REQUIRE(j);
  CHECK(*j == after1);
  CHECK_THAT(err, Catch::Contains(log_path(path) + ":3: put: index: missing"));
  CHECK_THAT(err, Catch::Contains("ignored"));
  write_file(log_path(path), header + "garbage\n" + l1);
  j = read_journal(path, err);
  REQUIRE(j);
  CHECK(*j == base);
  CHECK_THAT(err, Catch::Contains(":2: not valid JSON"));
  write_file(log_path(path), header + "{\"op\":\"grow\"}\n");
  j = read_journal(path, err);
  CHECK_THAT(err, Catch::Contains("unknown op \"grow\""));

  // A log of a newer format is not guessed at.
  write_file(log_path(path), "{\"journal_log\":2,\"epoch\":4242}\n" + l1);
  j = read_journal(path, err);
  REQUIRE(j);
  CHECK(*j == base);
  CHECK_THAT(err, Catch::Contains("log version 2 is not supported"));

  // A log without its snapshot (a clean stop removes the snapshot first).
  std::filesystem::remove(path);
  write_file(log_path(path), full);
  CHECK_FALSE(read_journal(path, err));
  CHECK(err.empty());
}

TEST_CASE("journal log: a compaction cut short at any point leaves a whole state") {
  temp_dir dir;
  auto path = dir / "state.json";
  auto log = log_path(path);
  journal_store store{path, no_compaction()};
  store.set_meta(7, "/a.toml");
  for (uint32_t i = 0; i < 20; ++i)
    store.put(rec("web", i, static_cast<int32_t>(100 + i)));
  REQUIRE(store.flush());
  const size_t logged = lines_of(log).size(); // the header, and the puts the first write missed
  store.put(rec("web", 3, 203, 1));
  store.erase("web", 4);
  REQUIRE(store.flush());
  CHECK(store.compactions() == 1);
  const journal state_a = store.snapshot();
  const std::string snap_a = slurp(path), log_a = slurp(log);
  CHECK(lines_of(log).size() == logged + 2); // the put, the erase
  CHECK(read_ok(path) == state_a);

  // The next compaction (load() asks for one) carries changes not yet logged.
  journal next = state_a;
  next.instances.pop_back();
  next.instances[0].pid = 999;
  store.load(next);
  REQUIRE(store.flush());
  CHECK(store.compactions() == 2);
  const std::string snap_b = slurp(path), log_b = slurp(log);
  REQUIRE(snap_b != snap_a);
  CHECK(lines_of(log).size() == 1); // the header of the new epoch only

  // 1. The new snapshot is still a temporary file: the old pair is read.
  write_file(path, snap_a);
  write_file(log, log_a);
  write_file(path + ".tmp.1.1", snap_b.substr(0, snap_b.size() / 2));
  write_file(log + ".tmp.1.2", "");
  CHECK(read_ok(path) == state_a);
  // 2. The snapshot was renamed, the log not yet replaced: the old log is
  //    stale (another epoch) and ignored, not replayed onto a newer state.
  write_file(path, snap_b);
  CHECK(read_ok(path) == next);
  // 3. The new log was renamed over the old one.
  write_file(log, log_b);
  CHECK(read_ok(path) == next);
  // 4. Appends to it.
  store.put(rec("web", 0, 1000, 5));
  REQUIRE(store.flush());
  CHECK(store.compactions() == 2);
  CHECK(read_ok(path) == store.snapshot());
  // Never made by the store (it renames the snapshot first): a log newer
  // than the snapshot is not applied to it either.
  write_file(path, snap_a);
  std::string err;
  uint64_t epoch_a = 0;
  auto alone = decode(snap_a, err, &epoch_a);
  REQUIRE(alone);
  CHECK(epoch_a != 0);
  CHECK(read_ok(path) == *alone);
  CHECK(*alone != state_a); // what log A added is not in snapshot A itself
}

TEST_CASE("journal_store: writes append, compaction follows the log size and quiet times") {
  temp_dir dir;
  auto path = dir / "state.json";
  store_options opts;
  opts.compact_factor = 2;
  opts.compact_min = 0;
  opts.quiet_compact = 0ms;
  journal_store store{path, opts};
  journal seed;
  for (uint32_t i = 0; i < 10; ++i)
    seed.instances.push_back(rec("web", i, static_cast<int32_t>(i + 1)));
  store.load(seed); // one change: the first write, a compaction, has it all
  REQUIRE(store.flush());
  CHECK(store.compactions() == 1);
  CHECK(lines_of(log_path(path)).size() == 1);
  const auto snapshot_size = slurp(path).size();
  // Appends until the log outgrows twice the snapshot, then one compaction.
  uint64_t appends = 0;
  for (int32_t round = 1; store.compactions() == 1; ++round) {
    REQUIRE(round < 100);
    store.put(rec("web", 0, 100 + round, static_cast<uint32_t>(round)));
    REQUIRE(store.flush());
    if (store.compactions() == 1) {
      ++appends;
      CHECK(slurp(log_path(path)).size() <= 2 * snapshot_size + 400);
    }
    CHECK(read_ok(path) == store.snapshot());
  }
  CHECK(appends > 3);
  CHECK(lines_of(log_path(path)).size() == 1);

  // With quiet_compact, a pause after an append compacts by itself.
  store_options quiet = no_compaction();
  quiet.quiet_compact = 20ms;
  temp_dir dir2;
  journal_store calm{dir2 / "state.json", quiet};
  calm.put(rec("web", 0, 1));
  REQUIRE(calm.flush());
  calm.put(rec("web", 0, 2, 1));
  REQUIRE(calm.flush());
  CHECK(wait_until([&] { return calm.compactions() == 2; }));
  CHECK(lines_of(log_path(dir2 / "state.json")).size() == 1);
  CHECK(read_ok(dir2 / "state.json") == calm.snapshot());
  CHECK(calm.snapshot().instances.at(0).pid == 2);
}

TEST_CASE("journal_store: what the files say always equals memory (random changes)") {
  temp_dir dir;
  auto path = dir / "state.json";
  store_options opts;
  opts.compact_factor = 3;
  opts.compact_min = 2048; // compact now and then
  opts.quiet_compact = 0ms;
  journal_store store{path, opts};
  std::mt19937 rng{12345};
  const char* apps[] = {"a", "b", "web.api"};
  for (int step = 0; step < 400; ++step) {
    const std::string app = apps[rng() % 3];
    const uint32_t index = rng() % 5;
    switch (rng() % 10) {
      case 0: store.erase(app, index); break;
      case 1: store.erase_app(app); break;
      case 2: store.set_scale(app, rng() % 7); break;
      case 3: store.set_meta(static_cast<int32_t>(rng() % 3), "/c" + std::to_string(rng() % 2)); break;
      default: store.put(rec(app, index, static_cast<int32_t>(rng() % 1000), rng() % 4)); break;
    }
    if (rng() % 4 == 0) {
      REQUIRE(store.flush());
      INFO("step " << step);
      REQUIRE(read_ok(path) == store.snapshot());
    }
  }
  REQUIRE(store.flush());
  CHECK(read_ok(path) == store.snapshot());
  CHECK(store.compactions() > 1);
  CHECK(store.writes() > store.compactions());
}

TEST_CASE("journal_store: remove_files removes both files and writes nothing after") {
  temp_dir dir;
  auto path = dir / "state.json";
  store_options opts = no_compaction();
  opts.quiet_compact = 5ms; // one would be due right when the files go
  journal_store store{path, opts};
  store.put(rec("web", 0, 1));
  REQUIRE(store.flush());
  store.put(rec("web", 0, 2, 1));
  REQUIRE(store.flush());
  store.remove_files();
  CHECK_FALSE(exists(path));
  CHECK_FALSE(exists(log_path(path)));
  store.put(rec("web", 0, 3, 2));
  CHECK(store.flush());
  CHECK_FALSE(exists(path));
  CHECK_FALSE(exists(log_path(path)));
}
