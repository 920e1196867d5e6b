// Watch mode in a real tree: a change under the app's cwd restarts it (a
// rolling reload when it has readiness), an ignored file does not, and a
// burst of a thousand files restarts it once.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

void touch(const std::filesystem::path& p) { std::ofstream{p, std::ios::app} << "x\n"; }

} // namespace

TEST_CASE("watch: an edit restarts the app, an ignored file does not, a burst restarts it once") {
  temp_dir src;
  std::filesystem::create_directories(src.path / "logs");
  harness h{"[w]\nargs = " + child_args({"sleep"}) + "\ncwd = \"" + src.path.string()
            + "\"\nwatch = true\nwatch_ignore = [\"*.tmp\"]\nwatch_debounce = \"100ms\"\n"};
  h.start();
  const auto first = h.wait(event_kind::child_started, "w#0");
  // Ignored (the default "logs" and "*.log", the app's own "*.tmp"): had they
  // counted, the change would name them; app.py comes last.
  touch(src.path / "logs" / "w.out.log");
  touch(src.path / "scratch.tmp");
  touch(src.path / "app.py");
  auto changed = h.wait(event_kind::file_changed, "w");
  CHECK(changed.reason == "watch: app.py changed");
  auto restarted = h.wait([](const event& e) {
    return e.what == event_kind::restarting && e.offender == "w#0";
  });
  CHECK(restarted.cause == restart_cause::watch);
  const auto second = h.wait(event_kind::child_started, "w#0");
  CHECK(second.pid != first.pid);

  for (int i = 0; i < 1000; ++i) touch(src.path / ("gen" + std::to_string(i) + ".js"));
  CHECK(h.wait(event_kind::file_changed, "w").reason == "watch: gen0.js changed");
  h.wait(event_kind::child_started, "w#0");
  touch(src.path / "last.py");
  CHECK(h.wait(event_kind::file_changed, "w").reason == "watch: last.py changed");
  h.wait(event_kind::child_started, "w#0");
  CHECK(h.count(event_kind::file_changed) == 3); // the burst was one change
  CHECK(h.count(event_kind::child_started) == 4);
}

TEST_CASE("watch: an app with readiness is reloaded, never left without a ready run") {
  temp_dir src;
  std::filesystem::create_directories(src.path / "conf");
  harness h{"[r]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\ncwd = \""
            + src.path.string() + "\"\nwatch = [\"conf\"]\nwatch_debounce = \"50ms\"\n"
            + "[r.health_check]\nexec = \"true\"\ninterval_secs = 1\n"};
  h.start();
  h.wait(event_kind::ready, "r#0");
  h.wait(event_kind::ready, "r#1");
  touch(src.path / "outside.txt"); // not under conf/: never seen
  touch(src.path / "conf" / "app.ini");
  CHECK(h.wait(event_kind::file_changed, "r").reason == "watch: app.ini changed");
  h.wait(event_kind::reloading, "r");
  auto done = h.wait(event_kind::reloaded, "r");
  CHECK(done.reason == "2 instance(s) replaced");
  CHECK(h.count(event_kind::file_changed) == 1);
}
