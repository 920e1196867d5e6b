// The client verbs' rendering: pure functions of the daemon's JSON, tested
// on fixture results (no daemon).

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli/render.hpp"

using namespace arbor::cli;
using nlohmann::json;

namespace {

json instance(const std::string& app, int index, const std::string& state, int pid,
              int64_t uptime_ms, int restarts, json memory, json cpu,
              const std::string& last_exit = "", const std::string& reason = "") {
  return {{"id", app + "#" + std::to_string(index)},
          {"app", app},
          {"index", index},
          {"state", state},
          {"want_up", state != "stopped" && state != "failed"},
          {"pid", pid},
          {"uptime_ms", uptime_ms},
          {"restarts", restarts},
          {"memory_bytes", memory},
          {"cpu_percent", cpu},
          {"last_exit", last_exit},
          {"reason", reason}};
}

json app(const std::string& name, const std::string& state, json instances) {
  return {{"name", name},
          {"kind", "app"},
          {"state", state},
          {"restart", "on_failure"},
          {"command", "run " + name},
          {"instances", std::move(instances)}};
}

json group(const std::string& name, const std::string& strategy, const std::string& state,
           json children) {
  return {{"name", name},
          {"kind", "group"},
          {"strategy", strategy},
          {"state", state},
          {"children", std::move(children)}};
}

const json null;
constexpr uint64_t mib = 1024 * 1024;

json api0() { return instance("web.api", 0, "running", 4242, 192000, 0, 15518925, 0.4); }
json api1() { return instance("web.api", 1, "running", 4243, 192000, 0, 15833498, 0.3); }
json flaky0() {
  return instance("web.flaky", 0, "backoff", 0, 0, 3, null, null, "exit(1)",
                  "exit(1), restart in 400ms");
}
json migrate0() {
  return instance("jobs.migrate", 0, "failed", 0, 0, 0, null, null, "",
                  "cannot execute '/x': No such file or directory");
}

/// The tree of the design example: two groups, a backoff and a failed app.
json example_tree() {
  return {{"root", group("", "one_for_one", "running",
                         {group("web", "one_for_one", "running",
                                {app("web.api", "running", {api0(), api1()}),
                                 app("web.flaky", "backoff", {flaky0()})}),
                          group("jobs", "one_for_one", "failed",
                                {app("jobs.migrate", "failed", {migrate0()})})})}};
}

/// Nested groups, an app beside the groups, a live row with a last exit.
json nested_tree() {
  auto proxy0 =
    instance("web.edge.proxy", 0, "running", 51234, 45000, 12, null, null, "signal(SIGKILL)");
  auto cron0 = instance("cron", 0, "stopped", 0, 0, 0, null, null, "exit(0)", "stopped");
  return {
    {"root",
     group(
       "", "one_for_one", "running",
       {group("web", "one_for_one", "running",
              {app("web.api", "running", {api0(), api1()}), app("web.flaky", "backoff", {flaky0()}),
               group("web.edge", "one_for_all", "running",
                     {app("web.edge.proxy", "running", {proxy0})})}),
        group("jobs", "one_for_one", "failed", {app("jobs.migrate", "failed", {migrate0()})}),
        app("cron", "stopped", {cron0})})}};
}

const json ping = {{"version", "0.1.0"}, {"pid", 99}, {"config", "/srv/app/arbor.toml"}};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_escape(const std::string& s) { return s.find('\x1b') != std::string::npos; }

} // namespace

TEST_CASE("human_duration: seconds, then two units at most") {
  CHECK(human_duration(0) == "0s");
  CHECK(human_duration(-5) == "0s");
  CHECK(human_duration(999) == "0s");
  CHECK(human_duration(45000) == "45s");
  CHECK(human_duration(59999) == "59s");
  CHECK(human_duration(60000) == "1m00s");
  CHECK(human_duration(192000) == "3m12s");
  CHECK(human_duration(3599999) == "59m59s");
  CHECK(human_duration(3600000) == "1h00m");
  CHECK(human_duration((2 * 3600 + 5 * 60 + 59) * 1000LL) == "2h05m");
  CHECK(human_duration(86399999) == "23h59m");
  CHECK(human_duration(86400000) == "1d00h");
  CHECK(human_duration((3 * 86400 + 4 * 3600 + 1800) * 1000LL) == "3d04h");
  CHECK(human_duration(400 * 86400000LL) == "400d00h");
}

TEST_CASE("human_bytes: bytes below 1K, then one decimal, 1024-based") {
  CHECK(human_bytes(0) == "0B");
  CHECK(human_bytes(1023) == "1023B");
  CHECK(human_bytes(1024) == "1.0K");
  CHECK(human_bytes(1536) == "1.5K");
  CHECK(human_bytes(15518925) == "14.8M");
  CHECK(human_bytes(1288490189) == "1.2G");
  CHECK(human_bytes(1024 * mib - 1) == "1.0G"); // not "1024.0M"
  CHECK(human_bytes(mib - 1) == "1.0M");
  CHECK(human_bytes(3 * 1024 * 1024 * mib) == "3.0T");
  CHECK(human_bytes(UINT64_MAX) == "16.0E");
}

TEST_CASE("human_cpu: one decimal and a percent sign") {
  CHECK(human_cpu(0.4) == "0.4%");
  CHECK(human_cpu(0) == "0.0%");
  CHECK(human_cpu(150.25) == "150.2%");
  CHECK(human_cpu(-1) == "-");
}

TEST_CASE("render_status: one aligned row per instance, '-' for what is not known") {
  json result = {{"instances", {api0(), api1(), flaky0(), migrate0()}}};
  auto out = lines(render_status(result, false));
  REQUIRE(out.size() == 5);
  CHECK(out[0] == "APP           INST  STATE     PID  UPTIME  RESTARTS  MEMORY   CPU  NOTE");
  CHECK(out[1] == "web.api       #0    running  4242   3m12s         0   14.8M  0.4%");
  CHECK(out[2] == "web.api       #1    running  4243   3m12s         0   15.1M  0.3%");
  CHECK(out[3]
        == "web.flaky     #0    backoff     -       -         3       -     -  "
           "exit(1), restart in 400ms");
  CHECK(out[4]
        == "jobs.migrate  #0    failed      -       -         0       -     -  "
           "cannot execute '/x': No such file or directory");
  CHECK_FALSE(has_escape(render_status(result, false)));
}

TEST_CASE("render_status: no NOTE column when nothing is down, colour only when asked") {
  json result = {{"instances", {api0()}}};
  auto plain = render_status(result, false);
  CHECK(plain
        == "APP      INST  STATE     PID  UPTIME  RESTARTS  MEMORY   CPU\n"
           "web.api  #0    running  4242   3m12s         0   14.8M  0.4%\n");
  auto coloured = render_status({{"instances", {api0(), migrate0()}}}, true);
  CHECK(coloured.find("\x1b[32mrunning\x1b[0m") != std::string::npos); // green
  CHECK(coloured.find("\x1b[31mfailed\x1b[0m") != std::string::npos);  // red
  // Colour never moves a column: the visible text is the same.
  auto visible = lines(coloured);
  auto expected = lines(render_status({{"instances", {api0(), migrate0()}}}, false));
  REQUIRE(visible.size() == expected.size());
  for (size_t i = 0; i < visible.size(); ++i)
    CHECK(display_width(visible[i]) == display_width(expected[i]));
}

TEST_CASE("render_status: a ready instance stopped by a signal shows why in NOTE") {
  auto frozen = instance("web.api", 0, "ready", 4242, 192000, 0, 15518925, 0.0, "",
                         "stopped by a signal: `arbor signal CONT web.api#0` resumes it");
  auto out = lines(render_status({{"instances", {frozen}}}, false));
  REQUIRE(out.size() == 2);
  CHECK(out[1].find("ready") != std::string::npos);
  CHECK(out[1].find("stopped by a signal: `arbor signal CONT web.api#0` resumes it")
        != std::string::npos);
}

TEST_CASE("render_status: missing or mistyped fields do not throw") {
  json odd = {{"instances", {{{"id", "x#2"}, {"state", 7}, {"pid", "nope"}}, "garbage"}}};
  std::string out;
  REQUIRE_NOTHROW(out = render_status(odd, false));
  CHECK(lines(out)
        == std::vector<std::string>{"APP  INST  STATE  PID  UPTIME  RESTARTS  MEMORY  CPU",
                                    "x    #2             -       -         0       -    -"});
  CHECK(render_status(json::object(), false) == "no instances\n");
}

TEST_CASE("render_tree: the design example, exact lines") {
  auto out = render_tree(example_tree(), ping, false);
  CHECK(out
        == "arbor  /srv/app/arbor.toml  · 2 groups · 3 apps · 4 instances · 2 up · 1 backoff · 1 "
           "failed\n"
           "├── web  one_for_one\n"
           "│   ├── web.api  running\n"
           "│   │   ├── #0  running   pid 4242   up 3m12s   ↻ 0   14.8M   0.4%\n"
           "│   │   └── #1  running   pid 4243   up 3m12s   ↻ 0   15.1M   0.3%\n"
           "│   └── web.flaky  backoff\n"
           "│       └── #0  backoff   restart in 400ms      ↻ 3   last: exit(1)\n"
           "└── jobs  one_for_one  failed\n"
           "    └── jobs.migrate  failed\n"
           "        └── #0  failed    cannot execute '/x': No such file or directory\n");
  CHECK_FALSE(has_escape(out));
}

TEST_CASE("render_tree: nested groups align every instance row") {
  auto out = lines(render_tree(nested_tree(), ping, false));
  std::vector<std::string> expected = {
    "arbor  /srv/app/arbor.toml  · 3 groups · 5 apps · 6 instances · 3 up · 1 backoff · 1 stopped "
    "· 1 failed",
    "├── web  one_for_one",
    "│   ├── web.api  running",
    "│   │   ├── #0      running   pid 4242    up 3m12s   ↻ 0    14.8M   0.4%",
    "│   │   └── #1      running   pid 4243    up 3m12s   ↻ 0    15.1M   0.3%",
    "│   ├── web.flaky  backoff",
    "│   │   └── #0      backoff   restart in 400ms       ↻ 3   last: exit(1)",
    "│   └── web.edge  one_for_all",
    "│       └── web.edge.proxy  running",
    "│           └── #0  running   pid 51234   up 45s     ↻ 12       -      -   last: "
    "signal(SIGKILL)",
    "├── jobs  one_for_one  failed",
    "│   └── jobs.migrate  failed",
    "│       └── #0      failed    cannot execute '/x': No such file or directory",
    "└── cron  stopped",
    "    └── #0          stopped                          last: exit(0)",
  };
  CHECK(out == expected);
}

TEST_CASE("render_tree: at 80 columns gaps narrow, the header splits, `last:` goes first") {
  auto out = lines(render_tree(nested_tree(), ping, false, 80));
  REQUIRE(out.size() == 16);
  CHECK(out[0] == "arbor  /srv/app/arbor.toml");
  CHECK(out[1] == "3 groups · 5 apps · 6 instances · 3 up · 1 backoff · 1 stopped · 1 failed");
  CHECK(out[4] == "│   │   ├── #0      running  pid 4242   up 3m12s  ↻ 0   14.8M  0.4%");
  CHECK(out[10] == "│           └── #0  running  pid 51234  up 45s    ↻ 12      -     -");
  for (const auto& l : out) CHECK(display_width(l) <= 80);
  for (const auto& l : lines(render_tree(nested_tree(), ping, true, 80)))
    CHECK(display_width(l) <= 80);
}

TEST_CASE("render_tree: a row too long even without `last:` is cut with an ellipsis") {
  auto why = "cannot execute '/opt/a/very/long/path/to/some/binary': No such file or directory";
  auto failed = instance("w", 0, "failed", 0, 0, 0, null, null, "", why);
  json tree = {{"root", group("", "one_for_one", "running", {app("w", "failed", {failed})})}};
  CHECK(lines(render_tree(tree, null, false, 60))[2]
        == "    └── #0  failed  cannot execute '/opt/a/very/long/path/t…");
  auto coloured = lines(render_tree(tree, null, true, 60))[2];
  CHECK(display_width(coloured) == 60);
  CHECK(coloured.substr(coloured.size() - 7) == "…\x1b[0m"); // colour closed after the cut
  CHECK(lines(render_tree(tree, null, false))[2].find(why) != std::string::npos);
}

TEST_CASE("render_tree: colour on request, states coloured, same visible text") {
  auto plain = lines(render_tree(example_tree(), ping, false));
  auto coloured = render_tree(example_tree(), ping, true);
  CHECK(coloured.find("\x1b[33mbackoff\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[31mfailed\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[1mweb.api\x1b[0m") != std::string::npos);
  auto visible = lines(coloured);
  REQUIRE(visible.size() == plain.size());
  for (size_t i = 0; i < plain.size(); ++i)
    CHECK(display_width(visible[i]) == display_width(plain[i]));
}

TEST_CASE("render_tree: a crash loop's reason is shortened, status keeps it whole") {
  auto loop = instance("w", 0, "backoff", 0, 0, 4, null, null, "exit(1)",
                       "crash loop: 4 consecutive runs shorter than min_uptime, restart in 800ms");
  json tree = {{"root", group("", "one_for_one", "running", {app("w", "backoff", {loop})})}};
  CHECK(lines(render_tree(tree, null, false))[2]
        == "    └── #0  backoff   crash loop: 4 short runs, restart in 800ms   ↻ 4   last: exit(1)");
  CHECK(render_status({{"instances", {loop}}}, false).find("4 consecutive runs shorter")
        != std::string::npos);
}

TEST_CASE("render_tree: an empty tree, no ping, an app scaled to zero") {
  json empty = {{"root", group("", "one_for_one", "running", json::array())}};
  CHECK(render_tree(empty, null, false)
        == "arbor  · 0 groups · 0 apps · 0 instances · 0 up · 0 failed\nno apps\n");
  json zero = {{"root", group("", "one_for_one", "running", {app("w", "stopped", json::array())})}};
  CHECK(lines(render_tree(zero, null, false))[1] == "└── w  stopped  no instances");
}

TEST_CASE("render_show: heading, instances, logs, spec as TOML in config order") {
  json result = {{"node", app("web.api", "running", {api0(), api1()})},
                 {"spec",
                  {{"restart", "on_failure"},
                   {"command", "node server.js"},
                   {"instances", 2},
                   {"env", {{"NODE_ENV", "production"}, {"odd key", "x"}}},
                   {"kill_timeout", 5000},
                   {"min_uptime", 1500},
                   {"max_memory", 536870912},
                   {"depends_on", {"db"}},
                   {"port", null},
                   {"zz_future", true}}},
                 {"logs",
                  {{"out", "/r/logs/web.api.out.log"},
                   {"err", "/r/logs/web.api.err.log"},
                   {"bytes_written", 1536},
                   {"bytes_dropped", 0},
                   {"rotations", 2},
                   {"last_error", ""}}},
                 {"ready_when", "READY=1 from the app (sd_notify)"}};
  CHECK(render_show(result, false)
        == "web.api  running  (app, restart on_failure)\n"
           "$ run web.api\n"
           "ready when READY=1 from the app (sd_notify)\n"
           "\n"
           "APP      INST  STATE     PID  UPTIME  RESTARTS  MEMORY   CPU\n"
           "web.api  #0    running  4242   3m12s         0   14.8M  0.4%\n"
           "web.api  #1    running  4243   3m12s         0   15.1M  0.3%\n"
           "\n"
           "out  /r/logs/web.api.out.log\n"
           "err  /r/logs/web.api.err.log\n"
           "logs 1.5K written · 2 rotations\n"
           "\n"
           "[web.api]\n"
           "command      = \"node server.js\"\n"
           "env          = { NODE_ENV = \"production\", \"odd key\" = \"x\" }\n"
           "instances    = 2\n"
           "restart      = \"on_failure\"\n"
           "min_uptime   = \"1500ms\"\n"
           "kill_timeout = \"5s\"\n"
           "max_memory   = \"512M\"\n"
           "depends_on   = [\"db\"]\n"
           "zz_future    = true\n");
}

TEST_CASE("render_show: a group lists every instance below it") {
  auto web = example_tree()["root"]["children"][0];
  json spec = {{"strategy", "one_for_one"},
               {"period", 5},
               {"intensity", null},
               {"children", {"web.api", "web.flaky"}}};
  auto out = lines(render_show({{"node", web}, {"spec", spec}}, false));
  REQUIRE(out.size() == 11);
  CHECK(out[0] == "web  running  (group, one_for_one)");
  CHECK(out[2].rfind("APP", 0) == 0);
  CHECK(out[5].rfind("web.flaky", 0) == 0);
  CHECK(out[7] == "[web]");
  CHECK(out[8] == "strategy = \"one_for_one\"");
  CHECK(out[9] == "period   = \"5s\"");
  CHECK(out[10] == "children = [\"web.api\", \"web.flaky\"]");
}

TEST_CASE("render_affected, render_scale, render_signaled") {
  CHECK(render_affected("stop", "stopped", {{"affected", {"web.api#0", "web.api#1"}}})
        == "stopped web.api#0, web.api#1\n");
  CHECK(render_affected("start", "started", {{"affected", json::array()}}) == "nothing to start\n");
  CHECK(render_scale({{"app", "web.api"}, {"from", 2}, {"to", 4}})
        == "scaled web.api from 2 to 4 instances\n");
  CHECK(render_scale({{"app", "web.api"}, {"from", 2}, {"to", 1}})
        == "scaled web.api from 2 to 1 instance\n");
  CHECK(render_scale({{"app", "web.api"}, {"from", 3}, {"to", 3}})
        == "web.api already has 3 instances\n");
  json sig = {
    {"signaled", {{{"id", "web.api#0"}, {"pid", 4242}}, {{"id", "web.api#1"}, {"pid", 4243}}}}};
  CHECK(render_signaled("HUP", sig)
        == "sent SIGHUP to web.api#0 (pid 4242), web.api#1 (pid 4243)\n");
  CHECK(render_signaled("HUP", {{"signaled", json::array()}}).empty());
}

TEST_CASE("render_apply: added, removed, changed, then the unchanged count") {
  json diff = {{"added", {"web.worker"}},
               {"removed", {"jobs.old"}},
               {"changed", {"web.api"}},
               {"scaled", {"web.queue"}},
               {"unchanged", {"a", "b", "c"}}};
  CHECK(render_apply(diff, false)
        == "+ web.worker\n- jobs.old\n~ web.api (restarted)\n~ web.queue (scaled)\n3 unchanged\n");
  CHECK(render_apply({{"added", json::array()},
                      {"removed", json::array()},
                      {"changed", json::array()},
                      {"unchanged", {"a", "b"}}},
                     false)
        == "no changes (2 unchanged)\n");
  auto coloured = render_apply(diff, true);
  CHECK(coloured.find("\x1b[32m+ web.worker\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[31m- jobs.old\x1b[0m") != std::string::npos);
}

TEST_CASE("render_apply: the keys a restart is for, a scale's counts, and a dry run's plan") {
  json diff = {{"added", {"web.worker"}},
               {"removed", {"jobs.old"}},
               {"changed", {"web.api"}},
               {"scaled", {"web.queue"}},
               {"unchanged", {"a"}},
               {"changes", {{"web.api", {"command", "env"}}}},
               {"scale", {{"web.queue", {{"from", 2}, {"to", 4}}}}}};
  CHECK(render_apply(diff, false)
        == "+ web.worker\n- jobs.old\n~ web.api (restarted: command, env changed)\n"
           "~ web.queue (scaled 2 → 4)\n1 unchanged\n");
  diff["dry_run"] = true;
  CHECK(render_apply(diff, false)
        == "+ web.worker (would start)\n- jobs.old (would stop)\n"
           "~ web.api (would restart: command, env changed)\n~ web.queue (would scale 2 → 4)\n"
           "1 unchanged\ndry run: nothing was changed\n");
  // An app with readiness goes by a rolling reload.
  diff["reloaded"] = {"web.api"};
  CHECK(render_apply(diff, false).find("~ web.api (would reload, rolling, where it runs: command, "
                                       "env changed)\n")
        != std::string::npos);
  diff.erase("dry_run");
  CHECK(render_apply(diff, false).find("~ web.api (reloaded, rolling: command, env changed)\n")
        != std::string::npos);
}

TEST_CASE("render_event: a log line, listings align, at_ns stands in for at") {
  json exited = {{"at", "2026-11-21T12:00:03.412Z"},
                 {"at_ns", 1795262403412000000LL},
                 {"supervisor", "web.api"},
                 {"event", "child_exited"},
                 {"offender", "web.api#0"},
                 {"reason", "exit(1)"},
                 {"pid", 4242},
                 {"state", "stopped"}};
  CHECK(render_event(exited, false)
        == "2026-11-21T12:00:03.412Z  web.api#0  child_exited  exit(1)  pid 4242");
  json backoff = {{"at_ns", 1795262403512000000LL},
                  {"supervisor", "web.api"},
                  {"event", "backoff"},
                  {"offender", "web.api#0"},
                  {"reason", "exit(1), restart in 400ms"},
                  {"pid", 0}};
  json started = {{"at", "2026-11-21T12:00:03.913Z"},
                  {"supervisor", "web.edge.proxy"},
                  {"event", "child_started"},
                  {"offender", ""},
                  {"reason", ""},
                  {"pid", 4250}};
  CHECK(render_events({{"events", {exited, backoff, started}}}, false)
        == "2026-11-21T12:00:03.412Z  web.api#0       child_exited   exit(1)  pid 4242\n"
           "2026-11-21T12:00:03.512Z  web.api#0       backoff        exit(1), restart in 400ms\n"
           "2026-11-21T12:00:03.913Z  web.edge.proxy  child_started  pid 4250\n");
  // A followed stream: widths only grow.
  event_columns cols;
  render_event(started, false, cols);
  CHECK(render_event(exited, false, cols)
        == "2026-11-21T12:00:03.412Z  web.api#0       child_exited   exit(1)  pid 4242");
  CHECK(render_event(exited, true).find("\x1b[33mchild_exited\x1b[0m") != std::string::npos);
  CHECK(render_event(started, true).find("\x1b[32mchild_started\x1b[0m") != std::string::npos);
  CHECK_FALSE(has_escape(render_events({{"events", {exited, backoff}}}, false)));
}

TEST_CASE("render_error: the message, then each diagnostic on its own line") {
  json err = {
    {"code", "config_invalid"},
    {"message", "/a/arbor.toml: 2 errors"},
    {"diagnostics", {"/a/arbor.toml:3:1: unknown key 'comand'", "/a/arbor.toml:9:5: bad"}}};
  CHECK(render_error(err)
        == "arbor: /a/arbor.toml: 2 errors\n/a/arbor.toml:3:1: unknown key 'comand'\n"
           "/a/arbor.toml:9:5: bad\n");
  CHECK(render_error({{"code", "not_found"}, {"message", "no app or group 'x'"}})
        == "arbor: no app or group 'x'\n");
  CHECK(render_error({{"code", "busy"}}) == "arbor: busy\n");
}

TEST_CASE("display_width and truncate_display count columns, not bytes") {
  CHECK(display_width("├── ↻") == 5);
  CHECK(display_width("\x1b[32mok\x1b[0m") == 2);
  CHECK(truncate_display("abcdef", 4, false) == "abc…");
  CHECK(truncate_display("abcd", 4, false) == "abcd");
  CHECK(truncate_display("abcdef", 0, false) == "abcdef");
  CHECK(truncate_display("\x1b[1mabcdef\x1b[0m", 3, true) == "\x1b[1mab…\x1b[0m");
}

TEST_CASE("render_status: backoff says when the next try is and how many short runs in a row") {
  auto delayed = instance("w", 0, "backoff", 0, 0, 5, null, null, "exit(1)",
                          "exit(1), restart in 4000ms");
  delayed["next_try_ms"] = 3240;
  delayed["short_runs"] = 2;
  CHECK(lines(render_status({{"instances", {delayed}}}, false))[1]
        == "w    #0    backoff    -       -         5       -    -  "
           "exit(1), restart in 4000ms; next try in 3.2 s; 2 short runs in a row");
  // A crash loop's reason counts the short runs already.
  auto loop = instance("w", 0, "backoff", 0, 0, 4, null, null, "exit(1)",
                       "crash loop: 4 consecutive runs shorter than min_uptime, restart in 800ms");
  loop["next_try_ms"] = 650;
  loop["short_runs"] = 4;
  CHECK(render_status({{"instances", {loop}}}, false).find(
          "min_uptime, restart in 800ms; next try in 0.7 s\n")
        != std::string::npos);
}
