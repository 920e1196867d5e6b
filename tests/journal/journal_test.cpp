#include <catch2/catch.hpp>

#include "journal/journal.hpp"
#include "../keeper/helpers.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::journal;
using namespace arbor::keeper::test;
using namespace std::chrono_literals;

namespace {

journal sample(size_t instances) {
  journal j;
  j.daemon_pid = 4242;
  j.config = "/etc/arbor/apps.toml";
  j.scale = {{"web.api", 3}, {"worker", 1}};
  for (size_t i = 0; i < instances; ++i) {
    instance_record r;
    r.app = i % 2 ? "web.api" : "worker \"quoted\" ü";
    r.index = static_cast<uint32_t>(i);
    r.pid = 1000 + static_cast<int32_t>(i);
    r.start_time = 18446744073709551000ull - i; // near the top of uint64
    r.started_unix_ms = 1700000000123 + static_cast<int64_t>(i);
    r.restarts = static_cast<uint32_t>(i * 7);
    r.state = i % 3 ? "running" : "backoff";
    r.want_up = i % 4 != 0;
    r.ready = i % 5 == 0;
    r.last_exit = i ? "exited " + std::to_string(i) : "";
    j.instances.push_back(r);
  }
  return j;
}

} // namespace

TEST_CASE("journal: write_atomic then read_journal gives back every field") {
  temp_dir dir;
  auto path = dir / "state.json";
  journal j = sample(5);
  std::string err;
  REQUIRE(write_atomic(path, j, err));
  CHECK(err.empty());
  auto back = read_journal(path, err);
  REQUIRE(back);
  CHECK(err.empty());
  CHECK(*back == j);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // With fdatasync too.
  j.instances[1].restarts = 99;
  REQUIRE(write_atomic(path, j, err, true));
  back = read_journal(path, err);
  REQUIRE(back);
  CHECK(back->instances[1].restarts == 99);
}

TEST_CASE("journal: a missing file is not an error, a corrupt one is and never throws") {
  temp_dir dir;
  std::string err = "stale";
  CHECK_FALSE(read_journal(dir / "none.json", err));
  CHECK(err.empty());

  auto path = dir / "state.json";
  std::string full = encode(sample(3));
  struct bad_case {
    std::string text;
    std::string says;
  };
  const bad_case cases[] = {
    {full.substr(0, full.size() / 2), "not valid JSON"},
    {"", "not valid JSON"},
    {"\x01\xff garbage", "not valid JSON"},
    {"[1,2]", "not a JSON object"},
    {R"({"daemon_pid":1})", "version: missing"},
    {R"({"version":2})", "version 2 is not supported"},
    {R"({"version":1,"instances":{}})", "instances: not an array"},
    {R"({"version":1,"instances":[{"app":"a","index":0,"pid":"12","start_time":1}]})",
     "instances[0].pid: must be an integer, but is string"},
    {R"({"version":1,"instances":[{"app":"a","index":0,"start_time":1}]})",
     "instances[0].pid: missing"},
    {R"({"version":1,"instances":[{"app":"a","index":-1,"pid":1,"start_time":1}]})",
     "instances[0].index: out of range: -1"},
    {R"({"version":1,"scale":{"a":"x"}})", "scale.a: must be an integer"},
    {R"({"version":1,"instances":[{"app":7,"index":0,"pid":1,"start_time":1}]})",
     "instances[0].app: type must be string"},
  };
  for (auto& c : cases) {
    INFO("text: " << c.text);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << c.text;
    std::optional<journal> j;
    CHECK_NOTHROW(j = read_journal(path, err));
    CHECK_FALSE(j);
    CHECK_THAT(err, Catch::Contains(c.says));
    CHECK_THAT(err, Catch::Contains(path));
  }
}

TEST_CASE("journal: a reader never sees a partial file while it is replaced") {
  temp_dir dir;
  auto path = dir / "state.json";
  const journal big = sample(400), small = sample(150);
  std::string err;
  REQUIRE(write_atomic(path, small, err));
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::string first_bad;
  std::thread reader{[&] {
    while (!done.load()) {
      std::string e;
      auto j = read_journal(path, e);
      if (!j || (*j != big && *j != small)) {
        if (bad++ == 0)
          first_bad = e;
      }
      ++reads;
    }
  }};
  int failed_writes = 0;
  for (int i = 0; i < 200; ++i)
    failed_writes += write_atomic(path, i % 2 ? small : big, err) ? 0 : 1;
  // Let the reader see the last file at least once more.
  int seen = reads.load();
  wait_until([&] { return reads.load() > seen + 1; }, 5s);
  done = true;
  reader.join();
  CHECK(failed_writes == 0);
  CHECK(reads.load() > 2);
  INFO("first bad read: " << first_bad);
  CHECK(bad.load() == 0);
  // No temporary file is left behind.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("journal: a write that cannot happen leaves the old file and says why") {
  temp_dir dir;
  std::string err;
  CHECK_FALSE(write_atomic(dir / "no/such/dir/state.json", sample(1), err));
  CHECK_THAT(err, Catch::Contains("No such file or directory"));
  // The target is a directory: rename fails, the temporary file is removed.
  std::filesystem::create_directory(dir / "state.json");
  std::filesystem::create_directory(dir / "state.json/x");
  CHECK_FALSE(write_atomic(dir / "state.json", sample(1), err));
  CHECK_THAT(err, Catch::Contains("rename"));
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("journal: /proc/<pid>/stat is parsed after the last ')'") {
  std::string line = "4242 (a) (b) c) S";
  for (int field = 4; field <= 21; ++field)
    line += " " + std::to_string(field);
  line += " 987654321 23 24 25\n";
  auto st = parse_proc_stat(line);
  REQUIRE(st);
  CHECK(st->state == 'S');
  CHECK(st->start_time == 987654321u);
  CHECK_FALSE(parse_proc_stat("4242 (x S 1 2"));
  CHECK_FALSE(parse_proc_stat("4242 (x) S 1 2 3"));       // too short
  CHECK_FALSE(parse_proc_stat(""));
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x9 1"));
}

TEST_CASE("journal: start time of a process whose name holds ') (', and same_process") {
  auto self_start = proc_start_time(::getpid());
  REQUIRE(self_start);
  CHECK(same_process(::getpid(), *self_start));
  CHECK_FALSE(same_process(::getpid(), *self_start + 1)); // a recycled pid: another start time
  CHECK_FALSE(same_process(0, 0));
  CHECK_FALSE(proc_start_time(-1));

  int go[2], ack[2];
  REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(ack, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    char c;
    if (::read(go[0], &c, 1) != 1)
      ::_exit(1);
    ::prctl(PR_SET_NAME, "x) (y) z", 0, 0, 0);
    if (::write(ack[1], "k", 1) != 1)
      ::_exit(1);
    for (;;)
      ::pause();
  }
  process child{pid, true};
  ::close(go[0]);
  ::close(ack[1]);
  auto before = proc_start_time(pid); // under the inherited name
  REQUIRE(before);
  CHECK(*before >= *self_start);
  REQUIRE(::write(go[1], "g", 1) == 1);
  char c;
  REQUIRE(::read(ack[0], &c, 1) == 1);
  CHECK(slurp("/proc/" + std::to_string(pid) + "/comm") == "x) (y) z\n");
  auto after = proc_start_time(pid);
  REQUIRE(after);
  CHECK(*after == *before);
  CHECK(same_process(pid, *before));
  CHECK_FALSE(same_process(pid, *before + 1));

  // A zombie is not the process any more, nor is a pid that is gone.
  ::kill(pid, SIGKILL);
  REQUIRE(child.gone(5s));
  CHECK_FALSE(same_process(pid, *before));
  REQUIRE(child.wait_status(5s) != -1);
  CHECK_FALSE(same_process(pid, *before));
  CHECK_FALSE(proc_start_time(pid));
  ::close(go[1]);
  ::close(ack[0]);
}
