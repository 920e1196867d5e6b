// Watch mode's watcher: a change is reported once after the debounce, ignored
// paths never, new directories are followed, a burst is one call.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "os/file_watch.hpp"

using namespace std::chrono_literals;
using arbor::os::file_watch;
using arbor::os::watch_ignored;
namespace fs = std::filesystem;

namespace {

struct temp {
  fs::path dir;
  temp() {
    char t[] = "/tmp/arbor-watch-XXXXXX";
    dir = ::mkdtemp(t);
  }
  ~temp() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

/// The calls a registration got, in order, with when each came.
struct calls {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> got;
  file_watch::on_change fn() {
    return [this](const std::string& p) {
      std::lock_guard<std::mutex> g{m};
      got.emplace_back(p, std::chrono::steady_clock::now());
      cv.notify_all();
    };
  }
  /// Waits for the n-th call; its path ("" on timeout).
  std::string wait(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> l{m};
    cv.wait_for(l, timeout, [&] { return got.size() >= n; });
    return got.size() >= n ? got[n - 1].first : "";
  }
  size_t count() {
    std::lock_guard<std::mutex> g{m};
    return got.size();
  }
};

void touch(const std::string& path) { std::ofstream{path, std::ios::app} << "x"; }

} // namespace

TEST_CASE("watch_ignored: names anywhere in the path, or whole paths with a '/'") {
  const std::vector<std::string> globs{".git", "node_modules", "*.log", "build/*.o"};
  CHECK(watch_ignored(".git/HEAD", globs));
  CHECK(watch_ignored("web/node_modules/x/index.js", globs));
  CHECK(watch_ignored("logs/app.log", globs));
  CHECK(watch_ignored("build/a.o", globs));
  CHECK_FALSE(watch_ignored("build/sub/a.o", globs));
  CHECK_FALSE(watch_ignored("src/app.js", globs));
  CHECK_FALSE(watch_ignored("git/x", globs));
}

TEST_CASE("file_watch: an edit is one call after the debounce, an ignored file none") {
  temp t;
  calls c;
  file_watch w;
  std::string error;
  REQUIRE(w.add({t.dir.string()}, {"*.log"}, 150ms, c.fn(), error) != 0);
  touch(t.file("app.log"));   // ignored: if it counted, the first call would name it
  const auto edited = std::chrono::steady_clock::now();
  touch(t.file("app.js"));
  CHECK(c.wait(1) == "app.js");
  const auto after = c.got[0].second - edited;
  CHECK(after >= 150ms); // debounced; how soon after is a figure for bench/, not a test
  CHECK(after < 150ms + 2s);
  touch(t.file("other.log"));
  touch(t.file("second.js"));
  CHECK(c.wait(2) == "second.js");
  CHECK(c.count() == 2);
}

TEST_CASE("file_watch: directories made later are watched, ignored ones are not entered") {
  temp t;
  fs::create_directories(t.file("node_modules/pkg"));
  calls c;
  file_watch w;
  std::string error;
  REQUIRE(w.add({t.dir.string()}, {"node_modules"}, 50ms, c.fn(), error) != 0);
  CHECK(w.directories() == 1); // the root only: node_modules is not entered
  fs::create_directories(t.file("src/deep"));
  CHECK(c.wait(1) == "src");
  REQUIRE(w.directories() == 3);
  touch(t.file("node_modules/pkg/index.js"));
  touch(t.file("src/deep/mod.py"));
  CHECK(c.wait(2) == "src/deep/mod.py");
}

TEST_CASE("file_watch: a thousand files in a burst are one call, a file root watches that file") {
  temp t;
  calls burst, one;
  file_watch w;
  std::string error;
  touch(t.file("config.json"));
  REQUIRE(w.add({t.dir.string()}, {}, 300ms, burst.fn(), error) != 0);
  REQUIRE(w.add({t.file("config.json")}, {}, 50ms, one.fn(), error) != 0);
  for (int i = 0; i < 1000; ++i) touch(t.file("f" + std::to_string(i)));
  CHECK(burst.wait(1) == "f0");
  touch(t.file("config.json"));
  CHECK(one.wait(1) == "config.json"); // the thousand other files never called it
  CHECK(burst.wait(2) == "config.json");
  CHECK(burst.count() == 2);
  CHECK(one.count() == 1);
}

TEST_CASE("file_watch: a missing root is an error, a removed registration is not called") {
  file_watch w;
  std::string error;
  calls c;
  CHECK(w.add({"/nonexistent/arbor-watch"}, {}, 10ms, c.fn(), error) == 0);
  CHECK_THAT(error, Catch::Contains("cannot watch /nonexistent/arbor-watch"));
  temp t;
  calls gone, kept;
  auto id = w.add({t.dir.string()}, {}, 10ms, gone.fn(), error);
  REQUIRE(id != 0);
  REQUIRE(w.add({t.dir.string()}, {}, 10ms, kept.fn(), error) != 0);
  w.remove(id);
  touch(t.file("x"));
  CHECK(kept.wait(1) == "x");
  CHECK(gone.count() == 0);
  CHECK(w.directories() == 1);
}
