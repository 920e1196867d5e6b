#include <catch2/catch.hpp>

#include <csignal>

#include "config/loader.hpp"

using namespace std::chrono_literals;
using namespace arbor;
using arbor::config::load_result;
using arbor::config::load_string;

namespace {

const std::string data_dir = ARBOR_SOURCE_DIR "/tests/config/data";

load_result load(std::string_view text, const std::string& base = "/srv/app") {
  return load_string(text, "t.toml", base);
}

std::string all_errors(const load_result& r) {
  std::string out;
  for (const auto& d : r.errors) out += d.to_string() + "\n";
  return out;
}

tree_spec ok(const load_result& r) {
  INFO(all_errors(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.ok());
  return *r.tree;
}

const node_spec* find(const group_spec& g, const std::string& name) {
  for (const auto& c : g.children) {
    if (c.name() == name) return &c;
    if (c.type == node_spec::kind::group)
      if (auto n = find(c.group, name)) return n;
  }
  return nullptr;
}

const app_spec& app(const tree_spec& t, const std::string& name) {
  auto n = find(t.root, name);
  INFO(name);
  REQUIRE(n);
  REQUIRE(n->type == node_spec::kind::app);
  return n->app;
}

const group_spec& group(const tree_spec& t, const std::string& name) {
  auto n = find(t.root, name);
  INFO(name);
  REQUIRE(n);
  REQUIRE(n->type == node_spec::kind::group);
  return n->group;
}

std::vector<std::string> names(const group_spec& g) {
  std::vector<std::string> out;
  for (const auto& c : g.children) out.push_back(c.name());
  return out;
}

using strings = std::vector<std::string>;
using env_list = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_CASE("loader: the pm2-style worker snippet loads unchanged") {
  auto r = load(R"([worker]
command = "node worker.js"
restart = "always"
max_restarts = 50
min_uptime = 10000
stop_exit_codes = [0]
max_memory = "256M"
cron_restart = "0 */6 * * *"
health_check = "http://localhost:9090/health"
kill_signal = "SIGINT"
kill_timeout = 15000
)");
  const auto t = ok(r);
  REQUIRE(t.root.children.size() == 1);
  const auto& a = app(t, "worker");
  CHECK(a.command == "node worker.js");
  CHECK(a.argv == strings{"node", "worker.js"});
  CHECK_FALSE(a.shell);
  CHECK(a.restart == restart_policy::always);
  CHECK(a.max_restarts == 50);
  CHECK(a.min_uptime == 10'000ms);
  CHECK(a.stop_exit_codes == std::vector<int>{0});
  CHECK(a.max_memory == 256ull * 1024 * 1024);
  CHECK(a.cron_restart == "0 */6 * * *");
  CHECK(a.health.type == health_check_spec::kind::http);
  CHECK(a.health.target == "http://localhost:9090/health");
  CHECK(a.health.interval == 10s);
  CHECK(a.health.timeout == 3s);
  CHECK(a.kill_signal == SIGINT);
  CHECK(a.kill_timeout == 15'000ms);
  CHECK(a.cwd == "/srv/app");
  CHECK(a.where == source_pos{"t.toml", 1, 1});
  CHECK(t.file == "t.toml");
  CHECK_FALSE(t.metrics.enabled);
}

TEST_CASE("loader: the process-compose-style snippet loads unchanged") {
  auto r = load(R"([processes.api]
command = "node dist/server.js"
restart_on_exit = true
restart_delay_ms = 0
max_restarts = 20
instances = 2
[processes.api.health_check]
endpoint = "http://localhost:3000/health"
interval_secs = 10
timeout_secs = 3
)");
  const auto t = ok(r);
  REQUIRE(names(t.root) == strings{"processes"});
  const auto& g = group(t, "processes");
  REQUIRE(names(g) == strings{"processes.api"});
  CHECK(g.strategy == strategy_kind::one_for_one);
  const auto& a = app(t, "processes.api");
  CHECK(a.argv == strings{"node", "dist/server.js"});
  CHECK(a.restart == restart_policy::always);
  CHECK(a.restart_delay == 0ms);
  CHECK(a.max_restarts == 20);
  CHECK(a.instances == 2);
  CHECK(a.health.type == health_check_spec::kind::http);
  CHECK(a.health.target == "http://localhost:3000/health");
  CHECK(a.health.interval == 10s);
  CHECK(a.health.timeout == 3s);
  CHECK(a.health.failures == 3);
}

TEST_CASE("loader: defaults of an app with only a command") {
  const auto t = ok(load("[x]\ncommand = \"./run\"\n"));
  const auto& a = app(t, "x");
  app_spec d; // spec.hpp defaults
  CHECK(a.argv == strings{"./run"});
  CHECK(a.cwd == "/srv/app");
  CHECK(a.env.empty());
  CHECK(a.instances == 1);
  CHECK(a.restart == restart_policy::on_failure);
  CHECK(a.stop_exit_codes.empty());
  CHECK(a.max_restarts == 15);
  CHECK(a.min_uptime == 1000ms);
  CHECK(a.restart_delay == 0ms);
  CHECK(a.backoff_base == 100ms);
  CHECK(a.backoff_max == 30'000ms);
  CHECK(a.kill_signal == SIGTERM);
  CHECK(a.kill_timeout == 5000ms);
  CHECK(a.max_memory == 0);
  CHECK(a.cron_restart.empty());
  CHECK(a.cron_tz.empty());
  CHECK(a.health == health_check_spec{});
  CHECK(a.ready.empty());
  CHECK(a.port == 0);
  CHECK(a.depends_on.empty());
  CHECK(a.log == log_spec{});
  d.name = "x";
  d.command = "./run";
  d.argv = {"./run"};
  d.cwd = "/srv/app";
  d.where = a.where;
  CHECK(a.same_run_spec(d));
  CHECK(t.root.strategy == strategy_kind::one_for_one);
  CHECK_FALSE(t.root.intensity);
  CHECK(t.root.period == 5s);
}

TEST_CASE("loader: start order is file order, not key order") {
  const auto t = ok(load(R"(
[zeta]
command = "z"
[alpha]
command = "a"
[mid.yy]
command = "y"
[mid.bb]
command = "b"
[mid.aa.inner]
command = "i"
[beta]
command = "b"
)"));
  CHECK(names(t.root) == strings{"zeta", "alpha", "mid", "beta"});
  CHECK(names(group(t, "mid")) == strings{"mid.yy", "mid.bb", "mid.aa"});
  CHECK(names(group(t, "mid.aa")) == strings{"mid.aa.inner"});
}

TEST_CASE("loader: a group defined after its first app keeps its first position") {
  const auto t = ok(load(R"(
[web.api]
command = "a"
[db]
command = "d"
[web]
strategy = "rest_for_one"
intensity = 3
period = "10s"
[web.worker]
command = "w"
)"));
  CHECK(names(t.root) == strings{"web", "db"});
  const auto& web = group(t, "web");
  CHECK(names(web) == strings{"web.api", "web.worker"});
  CHECK(web.strategy == strategy_kind::rest_for_one);
  CHECK(web.intensity == 3u);
  CHECK(web.period == 10s);
}

TEST_CASE("loader: inline tables and dotted keys are apps too") {
  const auto t = ok(load(R"(
strategy = "one_for_all"
period = 30
b = { command = "b", instances = 3 }
a.command = "a"
)"));
  CHECK(t.root.strategy == strategy_kind::one_for_all);
  CHECK(t.root.period == 30s);
  CHECK(names(t.root) == strings{"b", "a"});
  CHECK(app(t, "b").instances == 3);
}

TEST_CASE("loader: args, shell and command splitting") {
  const auto t = ok(load(R"(
[quoted]
command = "python3 -c 'print(\"hi there\")' --flag=\"a b\""
[shelled]
command = "cat x | grep y > out"
shell = true
[listed]
args = ["/usr/bin/env", "A=b c", "prog"]
)"));
  CHECK(app(t, "quoted").argv == strings{"python3", "-c", "print(\"hi there\")", "--flag=a b"});
  const auto& s = app(t, "shelled");
  CHECK(s.shell);
  CHECK(s.argv == strings{"/bin/sh", "-c", "cat x | grep y > out"});
  CHECK(s.command == "cat x | grep y > out");
  const auto& l = app(t, "listed");
  CHECK(l.argv == strings{"/usr/bin/env", "A=b c", "prog"});
  CHECK(l.command == "/usr/bin/env 'A=b c' prog");
}

TEST_CASE("loader: every app key with a value") {
  const auto t = ok(load(R"([all_keys]
command = "srv"
cwd = "../other/./dir/"
env = { Z = "last", N = 42, F = 1.5, B = true }
instances = 3
restart = "temporary"
stop_exit_codes = [0, 2, 255]
max_restarts = 0
min_uptime = "1.5s"
restart_delay_ms = "2s"
backoff_base_ms = 250
backoff_max_ms = "1m"
kill_signal = 1
kill_timeout = "10s"
max_memory = 1048576
cron_restart = "0 30 4 * * sun"
cron_tz = "Europe/Berlin"
ready = "notify"
port = 8000
depends_on = ["db"]
log_max_size = "1G"
log_max_files = 10
log_date_format = "%Y-%m-%d"
[all_keys.health_check]
tcp = "localhost:{port}"
interval_secs = "500ms"
timeout_secs = 0.25
failures = 5
start_period = 30
[db]
args = ["pg"]
)"));
  const auto& a = app(t, "all_keys");
  CHECK(a.cwd == "/srv/other/dir");
  CHECK(a.env == env_list{{"Z", "last"}, {"N", "42"}, {"F", "1.5"}, {"B", "true"}});
  CHECK(a.instances == 3);
  CHECK(a.restart == restart_policy::never);
  CHECK(a.stop_exit_codes == std::vector<int>{0, 2, 255});
  CHECK(a.max_restarts == 0);
  CHECK(a.min_uptime == 1500ms);
  CHECK(a.restart_delay == 2000ms);
  CHECK(a.backoff_base == 250ms);
  CHECK(a.backoff_max == 60'000ms);
  CHECK(a.kill_signal == SIGHUP);
  CHECK(a.kill_timeout == 10'000ms);
  CHECK(a.max_memory == 1048576);
  CHECK(a.cron_restart == "0 30 4 * * sun");
  CHECK(a.cron_tz == "Europe/Berlin");
  CHECK(a.ready == "notify");
  CHECK(a.port == 8000);
  CHECK(a.depends_on == strings{"db"});
  CHECK(a.log.max_size == 1ull << 30);
  CHECK(a.log.max_files == 10);
  CHECK(a.log.date_format == "%Y-%m-%d");
  CHECK(a.health.type == health_check_spec::kind::tcp);
  CHECK(a.health.target == "localhost:{port}");
  CHECK(a.health.interval == 500ms);
  CHECK(a.health.timeout == 250ms);
  CHECK(a.health.failures == 5);
  CHECK(a.health.start_period == 30s);
}

TEST_CASE("loader: restart aliases and restart_on_exit") {
  const auto t = ok(load(R"(
[a]
command = "x"
restart = "transient"
[b]
command = "x"
restart = "permanent"
[c]
command = "x"
restart_on_exit = false
[d]
command = "x"
restart = "always"
restart_on_exit = true
)"));
  CHECK(app(t, "a").restart == restart_policy::on_failure);
  CHECK(app(t, "b").restart == restart_policy::always);
  CHECK(app(t, "c").restart == restart_policy::never);
  CHECK(app(t, "d").restart == restart_policy::always);
}

TEST_CASE("loader: health_check exec and placeholders") {
  const auto t = ok(load(R"(
[a]
command = "x"
port = 3000
instances = 2
health_check = "http://127.0.0.1:{port}/health?i={instance}"
[b]
command = "x"
health_check = { exec = "pgrep -f '${NAME}' | awk '{print $1}'", failures = 1 }
)"));
  CHECK(app(t, "a").health.target == "http://127.0.0.1:{port}/health?i={instance}");
  const auto& b = app(t, "b").health;
  CHECK(b.type == health_check_spec::kind::exec);
  CHECK(b.failures == 1);
}

TEST_CASE("loader: env_file then env, relative to the config directory") {
  const auto t = ok(load(R"(
[web]
command = "srv"
env = { SHARED = "from_table", EXTRA = "1" }
env_file = "app.env"
)", data_dir));
  const auto& a = app(t, "web");
  CHECK(a.env_file == "app.env");
  CHECK(a.env == env_list{{"DATABASE_URL", "postgres://localhost/app"},
                          {"MODE", "production"},
                          {"SHARED", "from_file"},
                          {"SHARED", "from_table"},
                          {"EXTRA", "1"}});
  CHECK(a.cwd == data_dir);
}

TEST_CASE("loader: depends_on resolves short names and groups") {
  const auto t = ok(load(R"(
[db.primary]
command = "pg"
[cache]
command = "redis"
[web.api]
command = "api"
depends_on = ["primary", "cache", "db", "cache"]
[web.worker]
command = "w"
depends_on = ["web.api"]
)"));
  CHECK(app(t, "web.api").depends_on == strings{"db.primary", "cache", "db"});
  CHECK(app(t, "web.worker").depends_on == strings{"web.api"});
}

TEST_CASE("loader: [metrics] is settings, not a group") {
  SECTION("present means enabled with the default address") {
    const auto t = ok(load("[metrics]\n[a]\ncommand = \"x\"\n"));
    CHECK(t.metrics.enabled);
    CHECK(t.metrics.listen == "127.0.0.1:9100");
    CHECK(names(t.root) == strings{"a"});
  }
  SECTION("listen and enabled") {
    const auto t = ok(load("[metrics]\nlisten = \"0.0.0.0:9200\"\nenabled = false\n[a]\ncommand = \"x\"\n"));
    CHECK_FALSE(t.metrics.enabled);
    CHECK(t.metrics.listen == "0.0.0.0:9200");
  }
  SECTION("a nested [x.metrics] is an ordinary app") {
    const auto t = ok(load("[x.metrics]\ncommand = \"exporter\"\n"));
    CHECK_FALSE(t.metrics.enabled);
    CHECK(app(t, "x.metrics").argv == strings{"exporter"});
  }
}

TEST_CASE("loader: load_file reads the file and resolves paths next to it") {
  auto r = config::load_file(data_dir + "/sample.toml");
  const auto t = ok(r);
  CHECK(t.file == data_dir + "/sample.toml");
  CHECK(group(t, "web").strategy == strategy_kind::one_for_all);
  const auto& a = app(t, "web.api");
  CHECK(a.cwd == data_dir + "/srv");
  CHECK(a.env.size() == 3);
  CHECK(a.where == source_pos{data_dir + "/sample.toml", 5, 1});
}

TEST_CASE("loader: same_run_spec ignores only where") {
  const auto t = ok(load("[a]\ncommand = \"x\"\n[b]\ncommand = \"x\"\n"));
  auto a = app(t, "a");
  auto b = a;
  b.where = source_pos{"other.toml", 9, 9};
  CHECK(a.same_run_spec(b));
  b = a;
  b.kill_timeout = 1ms;
  CHECK_FALSE(a.same_run_spec(b));
  b = a;
  b.env.emplace_back("A", "1");
  CHECK_FALSE(a.same_run_spec(b));
  b = a;
  b.health.failures = 9;
  CHECK_FALSE(a.same_run_spec(b));
  b = a;
  b.log.max_files = 1;
  CHECK_FALSE(a.same_run_spec(b));
  b = a;
  b.depends_on.push_back("z");
  CHECK_FALSE(a.same_run_spec(b));
  CHECK(std::string{to_string(restart_policy::on_failure)} == "on_failure");
  CHECK(std::string{to_string(restart_policy::always)} == "always");
  CHECK(std::string{to_string(restart_policy::never)} == "never");
  CHECK(std::string{to_string(strategy_kind::one_for_one)} == "one_for_one");
  CHECK(std::string{to_string(strategy_kind::one_for_all)} == "one_for_all");
  CHECK(std::string{to_string(strategy_kind::rest_for_one)} == "rest_for_one");
}

TEST_CASE("loader: TOML floats are accepted where a number is") {
  auto r = load(R"([a]
command = "x"
instances = 2.0
min_uptime = 1500.0
kill_timeout = 0.5
max_memory = 1024.0
[a.health_check]
endpoint = "http://h/"
interval_secs = 2.5
)");
  const auto t = ok(r);
  const auto& a = app(t, "a");
  CHECK(a.instances == 2);
  CHECK(a.min_uptime == 1500ms);
  CHECK(a.kill_timeout == 1ms); // 0.5 ms rounds to the nearest millisecond
  CHECK(a.max_memory == 1024);
  CHECK(a.health.interval == 2500ms);
}

TEST_CASE("loader: SIGKILL is an acceptable kill_signal") {
  const auto t = ok(load("[a]\ncommand = \"x\"\nkill_signal = \"kill\"\n"));
  CHECK(app(t, "a").kill_signal == SIGKILL);
}

TEST_CASE("loader: a child table named like an app key is a child when it has a command") {
  const auto t = ok(load(R"([services.env]
command = "envd"
[services.health_check]
args = ["hc"]
)"));
  CHECK(names(group(t, "services")) == strings{"services.env", "services.health_check"});
  CHECK(app(t, "services.env").argv == strings{"envd"});
}

TEST_CASE("loader: watch is the cwd with true, paths relative to the cwd, off by default") {
  auto t = ok(load("[a]\ncommand = \"x\"\nwatch = true\n[b]\ncommand = \"x\"\ncwd = \"web\"\n"
                   "watch = [\"src\", \"/etc/app.conf\"]\nwatch_ignore = [\"*.tmp\"]\n"
                   "watch_debounce = \"1s\"\n[c]\ncommand = \"x\"\nwatch = false\n"));
  const auto& a = find(t.root, "a")->app;
  CHECK(a.watch == std::vector<std::string>{"/srv/app"});
  CHECK(a.watch_debounce == std::chrono::milliseconds(300));
  const auto& b = find(t.root, "b")->app;
  CHECK(b.watch == std::vector<std::string>{"/srv/app/web/src", "/etc/app.conf"});
  CHECK(b.watch_ignore == std::vector<std::string>{"*.tmp"});
  CHECK(b.watch_debounce == std::chrono::seconds(1));
  CHECK(find(t.root, "c")->app.watch.empty());
}
