// `arbor import`'s conversion of a PM2 ecosystem (pure: JSON in, TOML and
// notes out); each converted file is loaded back by the config reader.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "cli/pm2_import.hpp"
#include "config/loader.hpp"

using arbor::cli::import_pm2;
using Catch::Contains;
using nlohmann::json;

namespace {

/// Converts `eco` and REQUIREs that the TOML loads; returns the tree's apps as text.
arbor::cli::pm2_import_result convert(const json& eco, unsigned cpus = 4) {
  auto r = import_pm2(eco, cpus);
  REQUIRE(r.error.empty());
  auto loaded = arbor::config::load_string(r.toml, "/srv/arbor.toml", "/srv");
  std::string errors;
  for (auto& e : loaded.errors) errors += e.to_string() + "\n";
  INFO(r.toml << errors);
  REQUIRE(loaded.ok());
  return r;
}

bool noted(const arbor::cli::pm2_import_result& r, const std::string& part) {
  for (auto& n : r.notes)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

} // namespace

TEST_CASE("import: a PM2 ecosystem becomes one table per app, in PM2's order") {
  auto r = convert(json::parse(R"({"apps": [
    {"name": "web", "script": "server.js", "instances": 3, "env": {"NODE_ENV": "production", "PORT": 3000},
     "max_memory_restart": "300M", "cron_restart": "0 4 * * *", "max_restarts": 5,
     "min_uptime": "2s", "kill_timeout": 3000, "restart_delay": 200, "exec_mode": "fork"},
    {"name": "worker", "script": "jobs.py", "args": "--queue 'slow jobs'", "autorestart": false},
    {"name": "bin", "script": "/usr/bin/env", "interpreter": "none", "args": ["A=1", "true"]}
  ]})"));
  CHECK(r.notes.empty());
  const std::string& t = r.toml;
  CHECK(t.find("[web]") < t.find("[worker]"));
  CHECK(t.find("[worker]") < t.find("[bin]"));
  CHECK_THAT(t, Contains("command = \"node server.js\""));
  CHECK_THAT(t, Contains("instances = 3"));
  CHECK_THAT(t, Contains("[web.env]\nNODE_ENV = \"production\"\nPORT = \"3000\""));
  CHECK_THAT(t, Contains("max_memory = \"300M\""));
  CHECK_THAT(t, Contains("cron_restart = \"0 4 * * *\""));
  CHECK_THAT(t, Contains("max_restarts = 5"));
  CHECK_THAT(t, Contains("min_uptime = \"2s\""));
  CHECK_THAT(t, Contains("kill_timeout = 3000"));
  CHECK_THAT(t, Contains("restart_delay_ms = 200"));
  CHECK_THAT(t, Contains("command = \"python3 jobs.py --queue 'slow jobs'\""));
  CHECK_THAT(t, Contains("restart = \"never\""));
  CHECK_THAT(t, Contains("command = \"/usr/bin/env A=1 true\""));
}

TEST_CASE("import: what has no arbor equivalent is said, app by app, and left out") {
  auto r = convert(json::parse(R"({"apps": [
    {"name": "api", "script": "app.js", "exec_mode": "cluster", "instances": "max", "watch": true,
     "env_production": {"NODE_ENV": "production"}, "out_file": "/var/log/api.log", "colour": 1}
  ]})"), 6);
  CHECK_THAT(r.toml, Contains("instances = 6"));
  CHECK(noted(r, "api: instances = \"max\" converted to 6"));
  CHECK(noted(r, "api: exec_mode = \"cluster\" not converted: no cluster mode"));
  CHECK_THAT(r.toml, Contains("watch = true"));
  CHECK_FALSE(noted(r, "env_production")); // an overlay now: see the test below
  CHECK(noted(r, "api: out_file = \"/var/log/api.log\" not converted"));
  CHECK(noted(r, "api: colour = 1 not converted: not a PM2 app key"));
  CHECK(r.toml.find("cluster") == std::string::npos);
  CHECK_FALSE(noted(r, "watch"));
}

TEST_CASE("import: env_production and other environments become overlays that load") {
  auto r = convert(json::parse(R"({"apps": [
    {"name": "api", "script": "app.js", "env": {"NODE_ENV": "development", "PORT": 3000},
     "env_production": {"NODE_ENV": "production"}, "env_stage-2": {"PORT": 3100},
     "env_": {"X": 1}, "env_test": "no"}
  ]})"));
  CHECK_THAT(r.toml, Contains("[api.env_production]\nNODE_ENV = \"production\""));
  CHECK_THAT(r.toml, Contains("[api.env_stage-2]\nPORT = \"3100\""));
  CHECK(noted(r, "api: env_ = {\"X\":1} not converted: an environment is a table"));
  CHECK(noted(r, "api: env_test = \"no\" not converted"));
  auto prod = arbor::config::load_string(r.toml, "/srv/arbor.toml", "/srv", {"production"});
  INFO(r.toml);
  REQUIRE(prod.ok());
  CHECK(prod.tree->root.children.at(0).app.env
        == std::vector<std::pair<std::string, std::string>>{{"NODE_ENV", "production"},
                                                            {"PORT", "3000"}});
}

TEST_CASE("import: names arbor cannot take are renamed, and clashes numbered") {
  auto r = convert(json::parse(R"([
    {"name": "my api.v2", "script": "a.js"},
    {"name": "my-api-v2", "script": "b.js"},
    {"script": "./bin/worker.js"},
    {"script": "tool", "interpreter": "none"}
  ])"));
  CHECK_THAT(r.toml, Contains("[my-api-v2]\ncommand = \"node a.js\""));
  CHECK_THAT(r.toml, Contains("[my-api-v2-2]\ncommand = \"node b.js\""));
  CHECK_THAT(r.toml, Contains("[worker]\ncommand = \"node ./bin/worker.js\""));
  CHECK_THAT(r.toml, Contains("[tool]\ncommand = \"tool\""));
  CHECK(noted(r, "name \"my api.v2\" became 'my-api-v2'"));
  CHECK(arbor::cli::app_name_from("../..") == "app");
  CHECK(arbor::cli::app_name_from(std::string(100, 'x')).size() == 64);
}

TEST_CASE("import: a file that is no ecosystem is an error, nothing converted") {
  for (const char* text : {R"({"name": "x"})", R"(42)", R"({"apps": 3})", R"({"apps": []})"}) {
    auto r = import_pm2(json::parse(text), 2);
    INFO(text);
    CHECK_FALSE(r.error.empty());
    CHECK(r.toml.empty());
  }
}

TEST_CASE("import: strings with quotes and backslashes stay TOML strings") {
  auto r = convert(json::parse(R"({"apps": [{"name": "q", "script": "/bin/echo", "interpreter": "none",
    "env": {"MSG": "say \"hi\" \\ bye\n"}}]})"));
  CHECK_THAT(r.toml, Contains(R"(MSG = "say \"hi\" \\ bye\n")"));
}

TEST_CASE("import: PM2's uid and gid become user and group") {
  auto r = convert(json::parse(R"({"apps": [{"name": "web", "script": "server.js", "uid": "root", "gid": 0}]})"));
  CHECK(r.notes.empty());
  CHECK_THAT(r.toml, Contains("user = \"root\""));
  CHECK_THAT(r.toml, Contains("group = 0"));
}

TEST_CASE("start -- CMD: named as PM2 names it, after the script an interpreter runs") {
  using arbor::cli::command_name;
  using V = std::vector<std::string>;
  CHECK(command_name(V{"node", "app.js"}) == "app");
  CHECK(command_name(V{"/usr/bin/node", "--max-old-space-size=512", "srv/api.server.js"}) == "api");
  CHECK(command_name(V{"python3.11", "-u", "worker.py", "--queue", "q"}) == "worker");
  CHECK(command_name(V{"bun", "run", "index.ts"}) == "index");
  CHECK(command_name(V{"python3", "-m", "http.server", "8000"}) == "http-server");
  CHECK(command_name(V{"sh", "-c", "exec node app.js"}) == "sh"); // a command line, no script
  CHECK(command_name(V{"bash", "deploy/run.sh"}) == "run");
  CHECK(command_name(V{"./bin/my server", "app.js"}) == "my-server"); // not an interpreter
  CHECK(command_name(V{"node", "..."}) == "node");
  CHECK(command_name(V{}) == "app");
}
