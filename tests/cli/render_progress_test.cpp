// What `stop` and `restart` print while they wait for a process to go
// (durations as a config writes them: 5s, 1500ms).

#include <catch2/catch.hpp>

#include "cli/render.hpp"

using arbor::cli::render_progress;
using nlohmann::json;

TEST_CASE("render_progress: the signal sent, how long it waits, then SIGKILL") {
  json stopping{{"event", "stopping"}, {"offender", "web.api#0"}, {"pid", 4242},
                {"kill_signal", "SIGINT"}, {"kill_timeout_ms", 5000}};
  CHECK(render_progress(stopping)
        == "web.api#0: sent SIGINT (pid 4242); SIGKILL if it has not exited within 5s (kill_timeout)\n");
  json killed{{"event", "killed"}, {"offender", "web.api#0"}, {"pid", 4242},
              {"kill_signal", "SIGINT"}, {"kill_timeout_ms", 1500}};
  CHECK(render_progress(killed)
        == "web.api#0: still running after 1500ms (kill_timeout): sent SIGKILL\n");
}

TEST_CASE("render_progress: other kinds print nothing, missing fields do not throw") {
  CHECK(render_progress({{"event", "stopped"}, {"offender", "web.api#0"}}).empty());
  CHECK(render_progress(json::object()).empty());
  CHECK(render_progress({{"event", "stopping"}, {"offender", "a#0"}, {"pid", "x"}})
        == "a#0: sent kill_signal; SIGKILL if it has not exited within 0s (kill_timeout)\n");
}
