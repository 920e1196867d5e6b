#include <catch2/catch.hpp>

#include "config/loader.hpp"

using arbor::config::load_result;
using arbor::config::load_string;

namespace {

const std::string data_dir = ARBOR_SOURCE_DIR "/tests/config/data";

load_result load(std::string_view text, const std::string& base = "/srv/app") {
  return load_string(text, "t.toml", base);
}

std::vector<std::string> errors(std::string_view text, const std::string& base = "/srv/app") {
  auto r = load(text, base);
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(d.to_string());
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.tree);
  return out;
}

/// The one diagnostic of `text`.
std::string error(std::string_view text, const std::string& base = "/srv/app") {
  auto e = errors(text, base);
  std::string all;
  for (const auto& s : e) all += s + "\n";
  INFO(all);
  REQUIRE(e.size() == 1);
  return e.front();
}

/// An app `[a]` with `command = "x"` and one more line.
std::string app_with(const std::string& line) { return "[a]\ncommand = \"x\"\n" + line + "\n"; }

using Catch::Contains;
using Catch::EndsWith;
using Catch::Equals;
using Catch::StartsWith;

} // namespace

TEST_CASE("loader errors: unknown keys suggest the closest key") {
  CHECK_THAT(error("[web.api]\ncommand = \"x\"\nrestat = \"always\"\n"),
             Equals("t.toml:3:1: unknown key 'restat' in app 'web.api' (did you mean 'restart'?)"));
  CHECK_THAT(error(app_with("completely_unrelated = 1")),
             Equals("t.toml:3:1: unknown key 'completely_unrelated' in app 'a'"));
  CHECK_THAT(error("[web]\nstratgy = \"one_for_all\"\n[web.a]\ncommand = \"x\"\n"),
             Equals("t.toml:2:1: unknown key 'stratgy' in group 'web' (did you mean 'strategy'?)"));
  CHECK_THAT(error("[web]\nrestat = 1\n[web.a]\ncommand = \"x\"\n"),
             Contains("unknown key 'restat' in group 'web' (did you mean 'restart'?)"));
  CHECK_THAT(error("intensty = 3\n[a]\ncommand = \"x\"\n"),
             Equals("t.toml:1:1: unknown key 'intensty' at top level (did you mean 'intensity'?)"));
  CHECK_THAT(error("[metrics]\nlisen = \"x:1\"\n[a]\ncommand = \"x\"\n"),
             Equals("t.toml:2:1: unknown key 'lisen' in [metrics] (did you mean 'listen'?)"));
  CHECK_THAT(error(app_with("health_check = { endpoint = \"http://h/\", intervall_secs = 1 }")),
             Contains("unknown key 'intervall_secs' in 'health_check' in app 'a' (did you mean "
                      "'interval_secs'?)"));
}

TEST_CASE("loader errors: sub-tables of an app other than env and health_check") {
  CHECK_THAT(error(app_with("[a.logging]\nlevel = 1")),
             Equals("t.toml:3:4: unknown key 'logging' in app 'a'"));
  CHECK_THAT(error(app_with("[a.sub]\ncommand = \"y\"")),
             Contains("app 'a' cannot contain app 'a.sub'"));
  CHECK_THAT(error(app_with("strategy = \"one_for_all\"")),
             Equals("t.toml:3:1: 'strategy' is a group setting, not allowed in app 'a'"));
}

TEST_CASE("loader errors: wrong types name the expected and actual type") {
  CHECK_THAT(error(app_with("instances = \"two\"")),
             Equals("t.toml:3:13: 'instances' must be an integer, got string"));
  CHECK_THAT(error(app_with("instances = 2.5")), Contains("'instances' must be an integer, got 2.5"));
  CHECK_THAT(error(app_with("shell = \"yes\"")), Contains("'shell' must be true or false, got string"));
  CHECK_THAT(error(app_with("cwd = 1")), Contains("'cwd' must be a string, got integer"));
  CHECK_THAT(error(app_with("env = \"A=1\"")), Contains("'env' must be a table"));
  CHECK_THAT(error(app_with("env = { A = [1] }")),
             Contains("'env.A' must be a string, number or boolean, got array"));
  CHECK_THAT(error(app_with("stop_exit_codes = 0")),
             Contains("'stop_exit_codes' must be an array of integers, got integer"));
  CHECK_THAT(error(app_with("stop_exit_codes = [0, \"1\"]")),
             Contains("'stop_exit_codes[1]' must be an integer, got string"));
  CHECK_THAT(error(app_with("min_uptime = true")),
             Contains("'min_uptime' must be a duration (a number of milliseconds or a string like "
                      "\"5s\"), got boolean"));
  CHECK_THAT(error(app_with("max_memory = [1]")), Contains("'max_memory' must be a size"));
  CHECK_THAT(error(app_with("depends_on = \"db\"")),
             Contains("'depends_on' must be an array of app or group names, got string"));
  CHECK_THAT(error(app_with("depends_on = [1]")),
             Contains("'depends_on[0]' must be a string, got integer"));
  CHECK_THAT(error(app_with("kill_signal = true")), Contains("'kill_signal' must be a signal name"));
  CHECK_THAT(error(app_with("health_check = 1")),
             Contains("'health_check' must be an http:// URL or a table, got integer"));
  CHECK_THAT(error("[metrics]\nenabled = \"yes\"\n[a]\ncommand = \"x\"\n"),
             Equals("t.toml:2:11: 'enabled' must be true or false, got string"));
  CHECK_THAT(error("metrics = 1\n[a]\ncommand = \"x\"\n"), Contains("'metrics' must be a table"));
}

TEST_CASE("loader errors: bad durations and sizes") {
  CHECK_THAT(error(app_with("kill_timeout = \"5 secs\"")),
             Equals("t.toml:3:16: 'kill_timeout': unknown unit 'secs' in duration '5 secs' (use "
                    "ms, s, m, h or d)"));
  CHECK_THAT(error(app_with("min_uptime = -1")), Contains("'min_uptime' must not be negative"));
  CHECK_THAT(error(app_with("max_memory = \"lots\"")), Contains("'max_memory': invalid size 'lots'"));
  CHECK_THAT(error(app_with("max_memory = 0")), Contains("'max_memory' must be greater than 0"));
  CHECK_THAT(error(app_with("log_max_size = \"0M\"")), Contains("'log_max_size' must be greater than 0"));
  CHECK_THAT(error(app_with("backoff_base_ms = 0")), Contains("'backoff_base_ms' must be greater than 0"));
  CHECK_THAT(error(app_with("backoff_base_ms = \"1m\"")),
             Equals("t.toml:3:19: 'backoff_base_ms' (1m) is larger than 'backoff_max_ms' (30s) in app 'a'"));
  CHECK_THAT(error(app_with("backoff_max_ms = 50")),
             Equals("t.toml:3:18: 'backoff_base_ms' (100ms) is larger than 'backoff_max_ms' (50ms) in app 'a'"));
  CHECK_THAT(error("period = 0\n[a]\ncommand = \"x\"\n"), Contains("'period' must be greater than 0"));
  CHECK_THAT(error("period = 1.5\n[a]\ncommand = \"x\"\n"),
             Contains("'period' must be a whole number of seconds, got 1500ms"));
  CHECK_THAT(error(app_with("health_check = { endpoint = \"http://h/\", timeout_secs = 0 }")),
             Contains("'health_check.timeout_secs' must be greater than 0"));
  CHECK_THAT(error(app_with("health_check = { endpoint = \"http://h/\", interval_secs = \"x\" }")),
             Contains("'health_check.interval_secs': invalid duration 'x'"));
}

TEST_CASE("loader errors: command, args and shell") {
  CHECK_THAT(error("[a]\ncommand = \"x\"\nargs = [\"x\"]\n"),
             Equals("t.toml:3:8: 'command' and 'args' are mutually exclusive in app 'a': give one"));
  CHECK_THAT(error("[a]\nargs = [\"x\"]\nshell = true\n"),
             Equals("t.toml:3:9: 'shell = true' cannot be combined with 'args' in app 'a' (use "
                    "'command' for a shell command line)"));
  CHECK_THAT(error("[a]\ncommand = \"\"\n"), Equals("t.toml:2:11: 'command' is empty in app 'a'"));
  CHECK_THAT(error("[a]\ncommand = \"   \"\nshell = true\n"), Contains("'command' is empty"));
  CHECK_THAT(error("[a]\ncommand = \"''\"\n"), Contains("'command' has no program to run"));
  CHECK_THAT(error("[a]\nargs = []\n"), Contains("'args' is empty in app 'a'"));
  CHECK_THAT(error("[a]\nargs = [\"\"]\n"), Contains("'args[0]' (the program to run) is empty"));
  CHECK_THAT(error("[a]\nargs = [\"x\", 2]\n"), Equals("t.toml:2:14: 'args[1]' must be a string, got integer"));
  CHECK_THAT(error("[a]\nargs = \"x\"\n"), Contains("'args' must be an array of strings, got string"));
  CHECK_THAT(error("[a]\ncommand = \"echo 'oops\"\n"),
             Equals("t.toml:2:11: 'command': unterminated single quote (opened at character 6)"));
  CHECK_THAT(error("[a]\ncommand = \"a || b\"\n"),
             Equals("t.toml:2:11: 'command' uses shell syntax '||', which arbor does not interpret: "
                    "set shell = true, or single-quote it to pass it literally"));
  CHECK_THAT(error("[a]\ncommand = \"node app.js --port $PORT\"\n"),
             Contains("'command' uses shell syntax '$PORT'"));
  CHECK_THAT(error(app_with("cwd = \"\"")), Contains("'cwd' is empty in app 'a'"));
}

TEST_CASE("loader errors: restart settings") {
  CHECK_THAT(error(app_with("restart = \"alwys\"")),
             Equals("t.toml:3:11: 'restart' must be \"on_failure\", \"always\" or \"never\" (or "
                    "\"transient\", \"permanent\", \"temporary\"), got 'alwys' (did you mean 'always'?)"));
  CHECK_THAT(error(app_with("restart = \"never\"\nrestart_on_exit = true")),
             Equals("t.toml:4:19: 'restart_on_exit = true' conflicts with 'restart = \"never\"' in "
                    "app 'a': keep one"));
  CHECK_THAT(error(app_with("restart = \"always\"\nrestart_on_exit = false")),
             Contains("conflicts with 'restart = \"always\"'"));
  CHECK_THAT(error(app_with("stop_exit_codes = [256]")),
             Contains("'stop_exit_codes[0]' must be between 0 and 255, got 256"));
  CHECK_THAT(error(app_with("max_restarts = -1")), Contains("'max_restarts' must be between 0 and"));
}

TEST_CASE("loader errors: ranges") {
  CHECK_THAT(error(app_with("instances = 0")),
             Equals("t.toml:3:13: 'instances' must be between 1 and 10000, got 0"));
  CHECK_THAT(error(app_with("instances = 10001")), Contains("between 1 and 10000, got 10001"));
  CHECK_THAT(error(app_with("port = 0")), Contains("'port' must be between 1 and 65535, got 0"));
  CHECK_THAT(error(app_with("port = 70000")), Contains("'port' must be between 1 and 65535"));
  CHECK_THAT(error(app_with("port = 65534\ninstances = 3")),
             Equals("t.toml:3:8: 'port' 65534 with 3 instances needs ports up to 65536, beyond 65535"));
  CHECK_THAT(error(app_with("log_max_files = 0")), Contains("'log_max_files' must be between 1 and 1000"));
  CHECK_THAT(error("intensity = -1\n[a]\ncommand = \"x\"\n"), Contains("'intensity' must be between 0 and"));
  CHECK_THAT(error("strategy = \"one_for_al\"\n[a]\ncommand = \"x\"\n"),
             Contains("got 'one_for_al' (did you mean 'one_for_all'?)"));
  CHECK_THAT(error(app_with("ready = \"yes\"")), Contains("'ready' must be \"notify\", got 'yes'"));
  CHECK_THAT(error("[metrics]\nlisten = \"9100\"\n[a]\ncommand = \"x\"\n"),
             Contains("'listen': '9100' is not \"host:port\""));
  CHECK_THAT(error("[metrics]\nlisten = \"h:0\"\n[a]\ncommand = \"x\"\n"), Contains("out of range"));
}

TEST_CASE("loader errors: signals") {
  CHECK_THAT(error(app_with("kill_signal = \"SIGTREM\"")),
             Equals("t.toml:3:15: 'kill_signal': unknown signal 'SIGTREM' (did you mean 'SIGTERM'?)"));
  CHECK_THAT(error(app_with("kill_signal = 0")), Contains("unknown signal '0'"));
  CHECK_THAT(error(app_with("kill_signal = \"usr3\"")), Contains("unknown signal 'usr3' (did you mean 'SIGUSR1'?)"));
  CHECK_THAT(error(app_with("kill_signal = \"STOP\"")), Contains("'kill_signal' cannot be SIGSTOP"));
}

TEST_CASE("loader errors: cron and time zone") {
  CHECK_THAT(error(app_with("cron_restart = \"0 */6 * *\"")),
             Equals("t.toml:3:16: 'cron_restart': expected 5 fields (minute hour day-of-month month "
                    "day-of-week) or 6 (with leading seconds), got 4"));
  CHECK_THAT(error(app_with("cron_restart = \"0 25 * * *\"")),
             Contains("'cron_restart': bad hour field '25': 25 is out of range 0-23"));
  CHECK_THAT(error(app_with("cron_tz = \"Europe/Berln\"")),
             Equals("t.toml:3:11: 'cron_tz': unknown time zone 'Europe/Berln' (did you mean "
                    "'Europe/Berlin'?)"));
  CHECK_THAT(error(app_with("cron_tz = \"../../etc/passwd\"")), Contains("invalid time zone"));
}

TEST_CASE("loader errors: health checks") {
  CHECK_THAT(error(app_with("health_check = \"localhost:3000\"")),
             Equals("t.toml:3:16: 'health_check': 'localhost:3000' is not an http:// URL"));
  CHECK_THAT(error(app_with("health_check = \"https://h/\"")), Contains("https is not supported"));
  CHECK_THAT(error(app_with("health_check = \"http:///x\"")), Contains("has no host"));
  CHECK_THAT(error(app_with("health_check = {}")), Contains("'health_check' needs one of 'endpoint'"));
  CHECK_THAT(error(app_with("health_check = { endpoint = \"http://h/\", tcp = \"h:1\" }")),
             Contains("takes only one of 'endpoint', 'tcp' or 'exec'"));
  CHECK_THAT(error(app_with("health_check = { tcp = \"localhost\" }")),
             Contains("'health_check.tcp': 'localhost' is not \"host:port\""));
  CHECK_THAT(error(app_with("health_check = { exec = \" \" }")), Contains("'health_check.exec': empty command"));
  CHECK_THAT(error(app_with("health_check = { endpoint = \"http://h/\", failures = 0 }")),
             Contains("'health_check.failures' must be between 1 and"));
  CHECK_THAT(error(app_with("health_check = \"http://h:{port}/\"")),
             Contains("'health_check' uses {port} but app 'a' has no 'port'"));
  CHECK_THAT(error(app_with("port = 1\nhealth_check = \"http://h:{port}/{name}\"")),
             Contains("unknown placeholder '{name}' (only {port} and {instance} are replaced)"));
  CHECK_THAT(error(app_with("port = 1\nhealth_check = { exec = \"check {pid}\" }")),
             Contains("unknown placeholder '{pid}'"));
  CHECK_THAT(error(app_with("health_check = \"http://h/{\"")), Contains("unmatched '{'"));
}

TEST_CASE("loader errors: depends_on") {
  CHECK_THAT(error("[db]\ncommand = \"x\"\n[a]\ncommand = \"x\"\ndepends_on = [\"bd\"]\n"),
             Equals("t.toml:5:15: depends_on of app 'a' names unknown app or group 'bd' (did you "
                    "mean 'db'?)"));
  CHECK_THAT(error("[x.api]\ncommand = \"x\"\n[y.api]\ncommand = \"x\"\n[a]\ncommand = \"x\"\n"
                   "depends_on = [\"api\"]\n"),
             Contains("depends_on 'api' of app 'a' is ambiguous: x.api, y.api (write the full name)"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\ndepends_on = [\"a\"]\n"),
             Equals("t.toml:3:14: dependency cycle: a -> a"));
  CHECK_THAT(error("[g.a]\ncommand = \"x\"\ndepends_on = [\"g\"]\n"),
             Contains("app 'g.a' depends on group 'g', which contains it"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\ndepends_on = [\"b\"]\n[b]\ncommand = \"x\"\ndepends_on = [\"a\"]\n"),
             Equals("t.toml:3:14: dependency cycle: a -> b -> a"));
  // Through a group: c waits for every app in g, and g.b waits for c.
  CHECK_THAT(error("[c]\ncommand = \"x\"\ndepends_on = [\"g\"]\n[g.a]\ncommand = \"x\"\n"
                   "[g.b]\ncommand = \"x\"\ndepends_on = [\"c\"]\n"),
             Equals("t.toml:3:14: dependency cycle: c -> g.b -> c"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\ndepends_on = [\"b\"]\n[b]\ncommand = \"x\"\ndepends_on = [\"c\"]\n"
                   "[c]\ncommand = \"x\"\ndepends_on = [\"a\"]\n"),
             Contains("dependency cycle: a -> b -> c -> a"));
}

TEST_CASE("loader errors: names") {
  CHECK_THAT(error("[all]\ncommand = \"x\"\n"),
             Equals("t.toml:1:2: 'all' is a reserved name (the command line uses it for every app)"));
  CHECK_THAT(error("[\"a.b\"]\ncommand = \"x\"\n"),
             Equals("t.toml:1:2: name 'a.b' must not contain '.' (nest tables instead: [group.app])"));
  CHECK_THAT(error("[\"a b\"]\ncommand = \"x\"\n"),
             Equals("t.toml:1:2: name 'a b' may hold only letters, digits, '_' and '-' (it is "
                    "used in file names, the command line and tables)"));
  CHECK_THAT(error("[\"a#b\"]\ncommand = \"x\"\n"), Contains("name 'a#b' may hold only"));
  CHECK_THAT(error("[\"\"]\ncommand = \"x\"\n"), Contains("empty name"));
  CHECK_THAT(error("[g.all]\ncommand = \"x\"\n"), Contains("'all' is a reserved name"));
}

TEST_CASE("loader errors: names are at most 64 bytes of letters, digits, '_' and '-'") {
  auto ok = load("[" + std::string(64, 'a') + "]\ncommand = \"x\"\n[A-z_0]\ncommand = \"x\"\n");
  CHECK(ok.ok());
  CHECK_THAT(error("[" + std::string(65, 'a') + "]\ncommand = \"x\"\n"),
             Equals("t.toml:1:2: name '" + std::string(65, 'a')
                    + "' is 65 bytes long; names are at most 64 bytes"));
  // 10 MB: refused, and the message shows only its start.
  auto huge = error("[" + std::string(10u << 20, 'n') + "]\ncommand = \"x\"\n");
  CHECK_THAT(huge, EndsWith("... (10485760 bytes)' is 10485760 bytes long; names are at most 64 bytes"));
  CHECK(huge.size() < 200);
  // '/', NUL, ANSI escapes, non-ASCII: refused, shown escaped (never raw).
  CHECK_THAT(error("[\"a/b\"]\ncommand = \"x\"\n"), Contains("name 'a/b' may hold only"));
  CHECK_THAT(error("[\"a\\u0000b\"]\ncommand = \"x\"\n"), Contains("name 'a\\x00b' may hold only"));
  auto ansi = error("[\"red\\u001b[31m\"]\ncommand = \"x\"\n");
  CHECK_THAT(ansi, Contains("name 'red\\x1b[31m' may hold only"));
  CHECK(ansi.find('\x1b') == std::string::npos);
  CHECK_THAT(error("[g.\"caf\u00e9\"]\ncommand = \"x\"\n"), Contains("name 'caf\\xc3\\xa9' may hold only"));
  CHECK_THAT(error("[\"g h\".a]\ncommand = \"x\"\n"), Contains("name 'g h' may hold only"));
}

namespace {

/// An app nested in `groups` groups: [g.g.g....app].
std::string nested(size_t groups) {
  std::string path;
  for (size_t i = 0; i < groups; ++i) path += "g.";
  return "[" + path + "app]\ncommand = \"x\"\n";
}

} // namespace

TEST_CASE("loader errors: groups nest at most 16 deep, and a 10,000-deep file is an error") {
  CHECK(load(nested(16)).ok());
  std::string path17 = "g";
  for (int i = 1; i < 17; ++i) path17 += ".g";
  CHECK_THAT(error(nested(17)),
             Equals("t.toml:1:" + std::to_string(2 + 2 * 16) + ": group '" + path17
                    + "' is nested 17 deep; groups nest at most 16 deep (flatten the tree: a "
                      "group is a supervisor, not a folder)"));
  // Deep enough to exhaust the stack if the reader went all the way down.
  CHECK_THAT(error(nested(10000)), Contains("is nested 17 deep; groups nest at most 16 deep"));
}

TEST_CASE("loader errors: command, args, env and cwd are at most 64 KiB each") {
  std::string big(64 * 1024 + 1, 'x');
  CHECK(load("[a]\ncommand = \"" + std::string(64 * 1024, 'x') + "\"\n").ok());
  CHECK_THAT(error("[a]\ncommand = \"" + big + "\"\n"),
             Contains("'command' of app 'a' is 65537 bytes; at most 65536 bytes"));
  CHECK_THAT(error("[a]\nargs = [\"x\", \"" + big + "\"]\n"),
             Equals("t.toml:2:8: 'args' of app 'a' is 65538 bytes; at most 65536 bytes"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\nenv = { A = \"" + big + "\" }\n"),
             Contains("'env' of app 'a' is 65538 bytes; at most 65536 bytes"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\ncwd = \"/" + big + "\"\n"),
             Contains("'cwd' of app 'a' is 65538 bytes; at most 65536 bytes"));
}

TEST_CASE("loader errors: tables that are neither app nor group") {
  CHECK_THAT(error("[web]\nrestart = \"always\"\nenv = { A = \"1\" }\n"),
             Equals("t.toml:1:1: app 'web' has no 'command' (or 'args')"));
  CHECK_THAT(error("[web]\ncwd = \"/tmp\"\n"), Equals("t.toml:1:1: app 'web' has no 'command' (or 'args')"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\n[web]\n[web.env]\nA = \"1\"\n"),
             Equals("t.toml:3:1: app 'web' has no 'command' (or 'args')"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\n[x]\n"),
             Equals("t.toml:3:1: 'x' has no 'command' (or 'args') and no child tables"));
  CHECK_THAT(error("[a]\ncommand = \"x\"\n[g.x]\n"),
             Equals("t.toml:3:1: 'g.x' has no 'command' (or 'args') and no child tables"));
  CHECK_THAT(error("[g]\nrestart = \"always\"\n[g.a]\ncommand = \"x\"\n"),
             Equals("t.toml:2:1: 'restart' is an app setting, not allowed in group 'g': set it in "
                    "each app (groups pass nothing on)"));
  CHECK_THAT(error("command = \"x\"\n[a]\ncommand = \"x\"\n"),
             Equals("t.toml:1:1: 'command' is an app setting, not allowed at top level: put it in an "
                    "app's table, e.g. [myapp]"));
  CHECK_THAT(error("[[a]]\ncommand = \"x\"\n"), Contains("'a' is an array of tables ([[a]])"));
  CHECK_THAT(error(""), Equals("t.toml: no apps defined (an app is a table with 'command', e.g. [web] "
                               "command = \"node server.js\")"));
  CHECK_THAT(error("[metrics]\n"), Contains("no apps defined"));
}

TEST_CASE("loader errors: env_file") {
  CHECK_THAT(error(app_with("env_file = \"missing.env\""), data_dir),
             Equals("t.toml:3:12: env_file 'missing.env': cannot read: No such file or directory"));
  CHECK_THAT(error(app_with("env_file = \"bad.env\""), data_dir),
             Equals("t.toml:3:12: env_file 'bad.env' line 2: expected KEY=VALUE, got 'this line is wrong'"));
  CHECK_THAT(error(app_with("env_file = \"\"")), Contains("'env_file' is empty"));
  CHECK_THAT(error(app_with("env = { \"A=B\" = \"1\" }")), Contains("invalid environment variable name 'A=B'"));
}

TEST_CASE("loader errors: TOML syntax errors carry line and column") {
  auto e = errors("[a]\ncommand = \"x\"\nrestart = \n");
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0], StartsWith("t.toml:3:11: "));
  CHECK_THAT(e[0], Contains("expected"));
  e = errors("[a]\ncommand = \"x\"\n[a]\ncommand = \"y\"\n");
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0], StartsWith("t.toml:3:"));
}

TEST_CASE("loader errors: a missing or unreadable file") {
  auto r = arbor::config::load_file("/nonexistent/arbor.toml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "/nonexistent/arbor.toml: cannot read: No such file or directory");
  r = arbor::config::load_file(data_dir);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == data_dir + ": cannot read: Is a directory");
  // Endless or blocking inputs are refused without reading them.
  r = arbor::config::load_file("/dev/zero");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "/dev/zero: cannot read: not a regular file");
}

TEST_CASE("loader errors: every problem at once, sorted by position, and no tree") {
  auto r = load(R"([web.api]
command = "node server.js"
instances = 0
restat = "always"

[web.worker]
command = "node worker.js"
kill_signal = "SIGNOPE"
)");
  CHECK_FALSE(r.tree);
  REQUIRE(r.errors.size() == 3);
  CHECK_THAT(r.errors[0].to_string(), StartsWith("t.toml:3:13: 'instances'"));
  CHECK_THAT(r.errors[1].to_string(), StartsWith("t.toml:4:1: unknown key 'restat'"));
  CHECK_THAT(r.errors[2].to_string(), StartsWith("t.toml:8:15: 'kill_signal': unknown signal"));
}

TEST_CASE("loader errors: errors in different apps and keys are all reported") {
  // Written out of key order so that sorting by position is visible.
  auto e = errors(R"([zz]
command = "x"
port = 0
[aa]
command = "x"
depends_on = ["nope"]
cron_restart = "* * *"
[mm]
)");
  REQUIRE(e.size() == 4);
  CHECK_THAT(e[0], StartsWith("t.toml:3:8: "));
  CHECK_THAT(e[1], StartsWith("t.toml:6:15: "));
  CHECK_THAT(e[2], StartsWith("t.toml:7:16: "));
  CHECK_THAT(e[3], StartsWith("t.toml:8:1: 'mm' has no 'command'"));
}

TEST_CASE("loader errors: a health_check table without command makes an app without command") {
  CHECK_THAT(error("[web]\n[web.health_check]\nendpoint = \"http://h/\"\n"),
             Equals("t.toml:1:1: app 'web' has no 'command' (or 'args')"));
}

TEST_CASE("loader errors: a PM2 key names arbor's key instead of a near miss") {
  CHECK_THAT(error(app_with("autorestart = false")),
             Equals("t.toml:3:1: unknown key 'autorestart' in app 'a' (PM2's 'autorestart': "
                    "autorestart = false is restart = \"never\"; true is the default)"));
  CHECK_THAT(error(app_with("max_memory_restart = \"300M\"")),
             Contains("(PM2's 'max_memory_restart': max_memory = \"300M\""));
  CHECK_THAT(error(app_with("script = \"app.js\"")), Contains("(PM2's 'script': command = "));
  CHECK_THAT(error(app_with("exec_mode = \"cluster\"")),
             Contains("(PM2's 'exec_mode': no cluster mode"));
}

TEST_CASE("loader errors: watch takes true, false or paths, watch_ignore globs") {
  CHECK_THAT(error(app_with("watch = \"src\"")),
             Equals("t.toml:3:9: 'watch' must be true, false or an array of paths, got string"));
  CHECK_THAT(error(app_with("watch = [\"\"]")), Contains("'watch[0]' is empty in app 'a'"));
  CHECK_THAT(error(app_with("watch_ignore = \"*.log\"")),
             Contains("'watch_ignore' must be an array of strings, got string"));
  CHECK_THAT(error(app_with("watch_debounce = \"soon\"")), Contains("watch_debounce"));
}
