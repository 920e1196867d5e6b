// The client verbs' arguments: pure checks, and CLI11 rejecting bad ones
// before any callback runs (so no daemon is needed).

#include <catch2/catch.hpp>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/verbs.hpp"

using namespace arbor::cli;

TEST_CASE("parse_instance_count: non-negative integers up to the config's limit") {
  std::string error;
  CHECK(parse_instance_count("0", error) == 0u);
  CHECK(parse_instance_count("4", error) == 4u);
  CHECK(parse_instance_count("10000", error) == 10000u);
  for (const char* bad : {"", "-1", "1.5", "4x", " 4", "+4", "abc"}) {
    error.clear();
    CHECK_FALSE(parse_instance_count(bad, error));
    CHECK(error == std::string{"N must be a non-negative integer, got '"} + bad + "'");
  }
  CHECK_FALSE(parse_instance_count("10001", error));
  CHECK(error == "N must be at most 10000, got '10001'");
  CHECK_FALSE(parse_instance_count("99999999999999999999999", error));
}

TEST_CASE("parse_signal_arg: names with or without SIG, any case, or numbers") {
  std::string error;
  CHECK(parse_signal_arg("HUP", error) == std::string{"HUP"});
  CHECK(parse_signal_arg("SIGHUP", error) == std::string{"HUP"});
  CHECK(parse_signal_arg("sigusr1", error) == std::string{"USR1"});
  CHECK(parse_signal_arg("1", error) == std::string{"HUP"});
  CHECK(parse_signal_arg("15", error) == std::string{"TERM"});
  CHECK_FALSE(parse_signal_arg("BOGUS", error));
  CHECK(error.find("unknown signal 'BOGUS'") == 0);
  CHECK_FALSE(parse_signal_arg("0", error));
  CHECK_FALSE(parse_signal_arg("", error));
}

TEST_CASE("absolute_config_path: relative to the CLI's cwd, normalized") {
  CHECK(absolute_config_path("arbor.toml", "/srv/app") == "/srv/app/arbor.toml");
  CHECK(absolute_config_path("../x/a.toml", "/srv/app") == "/srv/x/a.toml");
  CHECK(absolute_config_path("/etc/arbor.toml", "/srv/app") == "/etc/arbor.toml");
}

namespace {

/// Parses `line` with the client verbs registered, as main() does.
void parse(const std::string& line) {
  CLI::App app{"arbor"};
  app.require_subcommand(1);
  add_client_verbs(app);
  app.parse(line, false);
}

} // namespace

TEST_CASE("client verbs: bad arguments fail in parsing, before any daemon call") {
  CHECK_THROWS_AS(parse("scale web.api -1"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("scale web.api four"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("scale web.api 10001"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("scale web.api"), CLI::RequiredError);
  CHECK_THROWS_AS(parse("signal BOGUS web.api"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("signal HUP"), CLI::RequiredError);
  CHECK_THROWS_AS(parse("start"), CLI::RequiredError);
  CHECK_THROWS_AS(parse("stop"), CLI::RequiredError);
  CHECK_THROWS_AS(parse("restart"), CLI::RequiredError);
  CHECK_THROWS_AS(parse("show"), CLI::RequiredError);
  CHECK_THROWS_AS(parse("events -n -3"), CLI::ValidationError);
  CHECK_THROWS_AS(parse("events -n lots"), CLI::ParseError);
}

TEST_CASE("client verbs: every verb has --json and help, ls is status") {
  CLI::App app{"arbor"};
  add_client_verbs(app);
  for (const char* verb : {"status", "tree", "show", "start", "stop", "restart", "scale", "signal",
                           "apply", "events"}) {
    auto* sub = app.get_subcommand(verb);
    REQUIRE(sub != nullptr);
    CHECK(sub->get_option_no_throw("--json") != nullptr);
    CHECK_FALSE(sub->get_description().empty());
  }
  CHECK(app.get_subcommand("ls") == app.get_subcommand("status"));
}

TEST_CASE("parse_count: says which argument, and never prints a range of doubles") {
  std::string error;
  CHECK(parse_count("20", "-n", 1000, error) == 20u);
  CHECK_FALSE(parse_count("abc", "-n", 1000, error));
  CHECK(error == "-n must be a non-negative integer, got 'abc'");
  CHECK_FALSE(parse_count("1001", "-n", 1000, error));
  CHECK(error == "-n must be at most 1000, got '1001'");
}

namespace {

/// The exit code main() gives `line` (every verb registered as it does).
int exit_code_of(const std::string& line) {
  CLI::App app{"arbor"};
  app.require_subcommand(1);
  add_lifecycle_verbs(app);
  add_client_verbs(app);
  add_log_verbs(app);
  add_system_verbs(app);
  add_help_verb(app);
  try {
    app.parse(line, false);
  } catch (const CLI::ParseError& e) {
    return exit_code_for(app, e);
  }
  return 0;
}

} // namespace

TEST_CASE("exit_code_for: every usage error is 1, help is 0") {
  for (const char* bad : {"", "bogus", "signal BOGUS api", "scale api -1", "status --jsonx", "stop",
                          "events -n abc", "logs -n abc", "help bogus"}) {
    INFO(bad);
    CHECK(exit_code_of(bad) == exit_failed);
  }
  CHECK(exit_code_of("help") == 0);
  CHECK(exit_code_of("help stop") == 0);
  CHECK(exit_code_of("help ls") == 0);
  CHECK(exit_code_of("--help") == 0);
  CHECK(exit_code_of("stop --help") == 0);
}
