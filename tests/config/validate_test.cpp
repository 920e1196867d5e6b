// validate(): the rules of a tree spec however it was built.

#include <catch2/catch.hpp>

#include <csignal>
#include <functional>

#include "config/loader.hpp"
#include "config/validate.hpp"

namespace {

using namespace arbor;

node_spec app(const std::string& name, std::vector<std::string> depends_on = {}) {
  node_spec n;
  n.app.name = name;
  n.app.argv = {"x"};
  n.app.depends_on = std::move(depends_on);
  return n;
}

std::vector<std::string> texts(const std::vector<config::diagnostic>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.to_string());
  return out;
}

} // namespace

TEST_CASE("validate: resolves a last segment, orders, and changes nothing the second time") {
  tree_spec t;
  node_spec back;
  back.type = node_spec::kind::group;
  back.group.name = "back";
  back.group.children = {app("back.db")};
  t.root.children = {app("web", {"db", "back.db"}), back};
  CHECK(config::validate(t).empty());
  REQUIRE(t.root.children.size() == 2);
  CHECK(t.root.children[0].name() == "back");
  CHECK(t.root.children[1].app.depends_on == std::vector<std::string>{"back.db"});
  auto again = t;
  CHECK(config::validate(again).empty());
  CHECK(again.root.children[0].name() == "back");
  CHECK(again.root.children[1].app.same_run_spec(t.root.children[1].app));
}

TEST_CASE("validate: a hand-built spec's errors are the bare messages, all at once") {
  tree_spec t;
  auto a = app("a", {"a"});
  a.app.instances = 0;
  auto b = app("b");
  b.app.backoff_base = millis{0};
  t.root.children = {a, b};
  CHECK(texts(config::validate(t))
        == std::vector<std::string>{"'instances' must be between 1 and 10000, got 0",
                                    "'backoff_base_ms' must be greater than 0",
                                    "dependency cycle: a -> a"});
}

TEST_CASE("validate: a spec from a file points at the key's value") {
  auto r = config::load_string("[a]\ncommand = \"x\"\nbackoff_base_ms = 0\n", "t.toml", "/srv");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "t.toml:3:19: 'backoff_base_ms' must be greater than 0");
}

namespace {

/// A tree of one app `a` running `x`, as an embedder builds it.
tree_spec one_app() {
  tree_spec t;
  auto a = app("a");
  a.app.command = "x";
  t.root.children = {a};
  return t;
}

/// The messages validate() gives a hand-built spec.
std::vector<std::string> messages(tree_spec t) {
  std::vector<std::string> out;
  for (const auto& d : config::validate(t)) out.push_back(d.message);
  return out;
}

/// The loader's messages for `toml`, without their positions.
std::vector<std::string> loader_messages(const std::string& toml) {
  auto r = config::load_string(toml, "t.toml", "/srv");
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(d.message);
  return out;
}

struct same_rule {
  std::function<void(tree_spec&)> build; ///< changes one_app()
  std::string toml;                      ///< the same mistake in a config
  std::string message;                   ///< what both say
};

void check_both(const std::vector<same_rule>& cases) {
  for (const auto& c : cases) {
    INFO(c.toml);
    auto t = one_app();
    c.build(t);
    CHECK(messages(t) == std::vector<std::string>{c.message});
    CHECK(loader_messages(c.toml) == std::vector<std::string>{c.message});
  }
}

app_spec& first(tree_spec& t) { return t.root.children.front().app; }

/// A config of one app `a` running `x`, with one more line.
std::string with(const std::string& line) { return "[a]\ncommand = \"x\"\n" + line + "\n"; }

} // namespace

TEST_CASE("validate: names are refused in a hand-built spec as in a config") {
  auto named = [](std::string name) { return [name](tree_spec& t) { first(t).name = name; }; };
  check_both({
    {named(""), "[\"\"]\ncommand = \"x\"\n", "empty name: apps and groups need a name"},
    {named("a.b"), "[\"a.b\"]\ncommand = \"x\"\n",
     "name 'a.b' must not contain '.' (nest tables instead: [group.app])"},
    {named("a b"), "[\"a b\"]\ncommand = \"x\"\n", "name 'a b'"
                                             " may hold only letters, digits, '_' and '-' (it is used in file names, the command line and tables)"},
    {named("a#1"), "[\"a#1\"]\ncommand = \"x\"\n", "name 'a#1'"
                                             " may hold only letters, digits, '_' and '-' (it is used in file names, the command line and tables)"},
    {named("all"), "[all]\ncommand = \"x\"\n",
     "'all' is a reserved name (the command line uses it for every app)"},
    {[](tree_spec& t) {
       node_spec g;
       g.type = node_spec::kind::group;
       g.group.name = "g";
       g.group.children = {t.root.children.front()};
       g.group.children.front().app.name = "g.all";
       t.root.children = {g};
     },
     "[g.all]\ncommand = \"x\"\n", "'all' is a reserved name (the command line uses it for every app)"},
  });
}

TEST_CASE("validate: names only a hand-built spec can get wrong") {
  auto t = one_app();
  t.root.children.push_back(t.root.children.front());
  CHECK(messages(t) == std::vector<std::string>{"duplicate name 'a'"});
  auto outside = one_app();
  node_spec g;
  g.type = node_spec::kind::group;
  g.group.name = "g";
  g.group.children = {app("h.a")};
  outside.root.children = {g};
  CHECK(messages(outside) == std::vector<std::string>{"name 'h.a' in group 'g' must start with 'g.'"});
}

TEST_CASE("validate: the program to run is refused empty in a hand-built spec as in a config") {
  check_both({
    {[](tree_spec& t) { first(t).command = "", first(t).argv = {}; }, "[a]\ncommand = \"\"\n",
     "'command' is empty in app 'a'"},
    {[](tree_spec& t) { first(t).argv = {}; }, "[a]\nargs = []\n",
     "'args' is empty in app 'a': args[0] is the program to run"},
    {[](tree_spec& t) { first(t).command = "", first(t).argv = {"", "-v"}; },
     "[a]\nargs = [\"\", \"-v\"]\n", "'args[0]' (the program to run) is empty"},
    {[](tree_spec& t) {
       first(t).shell = true, first(t).command = " ", first(t).argv = {"/bin/sh", "-c", " "};
     },
     "[a]\ncommand = \" \"\nshell = true\n", "'command' is empty in app 'a'"},
  });
}

TEST_CASE("validate: values are refused in a hand-built spec as in a config") {
  check_both({
    {[](tree_spec& t) { first(t).ready = "yes"; }, with("ready = \"yes\""),
     "'ready' must be \"notify\", got 'yes'"},
    {[](tree_spec& t) { first(t).cron_restart = "0 25 * * *"; }, with("cron_restart = \"0 25 * * *\""),
     loader_messages(with("cron_restart = \"0 25 * * *\"")).at(0)},
    {[](tree_spec& t) { first(t).cron_tz = "Europe/Berln"; }, with("cron_tz = \"Europe/Berln\""),
     loader_messages(with("cron_tz = \"Europe/Berln\"")).at(0)},
    {[](tree_spec& t) { first(t).kill_signal = SIGSTOP; }, with("kill_signal = \"SIGSTOP\""),
     "'kill_signal' cannot be SIGSTOP: it pauses a process instead of ending it"},
    {[](tree_spec& t) { first(t).min_uptime = millis{-1}; }, with("min_uptime = -1"),
     "'min_uptime' must not be negative"},
    {[](tree_spec& t) { first(t).kill_timeout = millis{-5}; }, with("kill_timeout = -5"),
     "'kill_timeout' must not be negative"},
    {[](tree_spec& t) { first(t).log.max_size = 0; }, with("log_max_size = 0"),
     "'log_max_size' must be greater than 0"},
    {[](tree_spec& t) { first(t).log.max_files = 0; }, with("log_max_files = 0"),
     "'log_max_files' must be between 1 and 1000, got 0"},
    {[](tree_spec& t) { first(t).stop_exit_codes = {256}; }, with("stop_exit_codes = [256]"),
     "'stop_exit_codes[0]' must be between 0 and 255, got 256"},
    {[](tree_spec& t) { first(t).env = {{"A=B", "1"}}; }, with("env = { \"A=B\" = \"1\" }"),
     "invalid environment variable name 'A=B' in app 'a'"},
    {[](tree_spec& t) { first(t).depends_on = {""}; }, with("depends_on = [\"\"]"),
     "'depends_on[0]' is empty"},
    {[](tree_spec& t) { t.root.period = std::chrono::seconds(0); },
     "period = 0\n[a]\ncommand = \"x\"\n", "'period' must be greater than 0"},
    {[](tree_spec& t) { t.metrics.enabled = true, t.metrics.listen = "9100"; },
     "[metrics]\nlisten = \"9100\"\n[a]\ncommand = \"x\"\n", "'listen': '9100' is not \"host:port\""},
  });
  CHECK_THAT(loader_messages(with("cron_restart = \"0 25 * * *\"")).at(0),
             Catch::StartsWith("'cron_restart': "));
  CHECK_THAT(loader_messages(with("cron_tz = \"Europe/Berln\"")).at(0),
             Catch::StartsWith("'cron_tz': "));
}

TEST_CASE("validate: health checks are refused in a hand-built spec as in a config") {
  auto health = [](health_check_spec::kind k, std::string target) {
    return [k, target](tree_spec& t) {
      first(t).health.type = k;
      first(t).health.target = target;
    };
  };
  using k = health_check_spec::kind;
  check_both({
    {health(k::http, "localhost:3000"), with("health_check = \"localhost:3000\""),
     "'health_check': 'localhost:3000' is not an http:// URL"},
    {health(k::http, "https://h/"), with("health_check = \"https://h/\""),
     "'health_check': 'https://h/': https is not supported for health checks, use http://"},
    {health(k::tcp, "localhost"), with("health_check = { tcp = \"localhost\" }"),
     "'health_check.tcp': 'localhost' is not \"host:port\""},
    {health(k::exec, " "), with("health_check = { exec = \" \" }"),
     "'health_check.exec': empty command"},
    {health(k::http, "http://h:{port}/"), with("health_check = \"http://h:{port}/\""),
     "'health_check' uses {port} but app 'a' has no 'port'"},
    {health(k::exec, "check {pid}"), with("port = 1\nhealth_check = { exec = \"check {pid}\" }"),
     "'health_check': unknown placeholder '{pid}' (only {port} and {instance} are replaced)"},
    {[health](tree_spec& t) {
       health(k::tcp, "h:1")(t);
       first(t).health.interval = millis{0};
     },
     with("health_check = { tcp = \"h:1\", interval_secs = 0 }"),
     "'health_check.interval_secs' must be greater than 0"},
  });
}

TEST_CASE("validate: a moved rule keeps the config's position") {
  auto r = config::load_string("[a]\nargs = [\"\"]\n[\"b c\"]\ncommand = \"x\"\nready = \"no\"\n",
                               "t.toml", "/srv");
  CHECK(texts(r.errors)
        == std::vector<std::string>{"t.toml:2:9: 'args[0]' (the program to run) is empty",
                                    "t.toml:3:2: name 'b c'"
                                    " may hold only letters, digits, '_' and '-' (it is used in file names, the command line and tables)",
                                    "t.toml:5:9: 'ready' must be \"notify\", got 'no'"});
}
