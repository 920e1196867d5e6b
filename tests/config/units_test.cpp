#include <catch2/catch.hpp>

#include <csignal>

#include "config/units.hpp"

using namespace std::chrono_literals;
using arbor::config::parse_duration;
using arbor::config::parse_signal;
using arbor::config::parse_size;
using arbor::config::signal_name;

namespace {

std::chrono::milliseconds dur(std::string_view text, std::chrono::milliseconds bare = 1ms) {
  std::string error;
  auto d = parse_duration(text, bare, error);
  INFO(text << " → " << error);
  REQUIRE(d);
  CHECK(error.empty());
  return *d;
}

std::string dur_error(std::string_view text) {
  std::string error;
  auto d = parse_duration(text, 1ms, error);
  INFO(text);
  CHECK_FALSE(d);
  return error;
}

uint64_t size(std::string_view text) {
  std::string error;
  auto s = parse_size(text, error);
  INFO(text << " → " << error);
  REQUIRE(s);
  return *s;
}

std::string size_error(std::string_view text) {
  std::string error;
  auto s = parse_size(text, error);
  INFO(text);
  CHECK_FALSE(s);
  return error;
}

} // namespace

TEST_CASE("units: durations with units") {
  CHECK(dur("250ms") == 250ms);
  CHECK(dur("5s") == 5000ms);
  CHECK(dur("1.5s") == 1500ms);
  CHECK(dur("2m") == 120'000ms);
  CHECK(dur("1h") == 3'600'000ms);
  CHECK(dur("1d") == 86'400'000ms);
  CHECK(dur("0.5h") == 1'800'000ms);
  CHECK(dur(".5s") == 500ms);
  CHECK(dur(" 5 s ") == 5000ms);
  CHECK(dur("5S") == 5000ms);
  CHECK(dur("10MS") == 10ms);
  CHECK(dur("1m30s") == 90'000ms);
  CHECK(dur("0s") == 0ms);
}

TEST_CASE("units: a bare number is taken in the key's unit") {
  CHECK(dur("5000") == 5000ms);
  CHECK(dur("10", 1000ms) == 10'000ms);
  CHECK(dur("1.5", 1000ms) == 1500ms);
  CHECK(dur("0") == 0ms);
}

TEST_CASE("units: duration errors") {
  CHECK_THAT(dur_error(""), Catch::Contains("empty duration"));
  CHECK_THAT(dur_error("   "), Catch::Contains("empty duration"));
  CHECK_THAT(dur_error("abc"), Catch::Contains("invalid duration 'abc'"));
  CHECK_THAT(dur_error("s"), Catch::Contains("invalid duration"));
  CHECK_THAT(dur_error("-5s"), Catch::Contains("must not be negative"));
  CHECK_THAT(dur_error("-5"), Catch::Contains("must not be negative"));
  CHECK_THAT(dur_error("5x"), Catch::Contains("unknown unit 'x'"));
  CHECK_THAT(dur_error("5 secs"), Catch::Contains("unknown unit 'secs'"));
  CHECK_THAT(dur_error("5 5"), Catch::Contains("each number needs a unit"));
  CHECK_THAT(dur_error("1m30"), Catch::Contains("each number needs a unit"));
  CHECK_THAT(dur_error("5s!"), Catch::Contains("invalid duration"));
  CHECK_THAT(dur_error("99999999999999999999d"), Catch::Contains("too large"));
}

TEST_CASE("units: sizes are binary with optional B / iB") {
  CHECK(size("1024") == 1024);
  CHECK(size("0") == 0);
  CHECK(size("100B") == 100);
  CHECK(size("64k") == 64 * 1024);
  CHECK(size("64K") == 64 * 1024);
  CHECK(size("512M") == 512ull << 20);
  CHECK(size("256MB") == 256ull << 20);
  CHECK(size("256mib") == 256ull << 20);
  CHECK(size("256Mi") == 256ull << 20);
  CHECK(size("1G") == 1ull << 30);
  CHECK(size("1.5G") == 3ull << 29);
  CHECK(size("2T") == 2ull << 40);
  CHECK(size(" 10 M ") == 10ull << 20);
}

TEST_CASE("units: size errors") {
  CHECK_THAT(size_error(""), Catch::Contains("invalid size"));
  CHECK_THAT(size_error("M"), Catch::Contains("invalid size 'M'"));
  CHECK_THAT(size_error("-1M"), Catch::Contains("must not be negative"));
  CHECK_THAT(size_error("5X"), Catch::Contains("unknown unit 'X'"));
  CHECK_THAT(size_error("5MX"), Catch::Contains("unknown unit 'MX'"));
  CHECK_THAT(size_error("5Bi"), Catch::Contains("unknown unit 'Bi'"));
  CHECK_THAT(size_error("5M 3"), Catch::Contains("invalid size"));
  CHECK_THAT(size_error("99999999T"), Catch::Contains("too large"));
}

TEST_CASE("units: signal names, with or without SIG, any case, or numbers") {
  CHECK(parse_signal("SIGTERM") == SIGTERM);
  CHECK(parse_signal("TERM") == SIGTERM);
  CHECK(parse_signal("sigterm") == SIGTERM);
  CHECK(parse_signal("int") == SIGINT);
  CHECK(parse_signal("SIGKILL") == SIGKILL);
  CHECK(parse_signal("SIGWINCH") == SIGWINCH);
  CHECK(parse_signal("15") == 15);
  CHECK(parse_signal("9") == 9);
  CHECK(parse_signal(" HUP ") == SIGHUP);
}

TEST_CASE("units: unknown signals") {
  CHECK_FALSE(parse_signal(""));
  CHECK_FALSE(parse_signal("0"));
  CHECK_FALSE(parse_signal("SIG"));
  CHECK_FALSE(parse_signal("SIGFOO"));
  CHECK_FALSE(parse_signal("TERMX"));
  CHECK_FALSE(parse_signal("99"));
  CHECK_FALSE(parse_signal("15x"));
  CHECK_FALSE(parse_signal("-15"));
  CHECK_FALSE(parse_signal("99999999999"));
}

TEST_CASE("units: signal names round-trip for every standard signal") {
  const char* names[] = {"HUP",  "INT",  "QUIT", "ILL",  "TRAP", "ABRT",   "BUS",  "FPE",
                         "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",   "TERM", "STKFLT",
                         "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",   "URG",  "XCPU",
                         "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR",  "SYS"};
  for (auto n : names) {
    auto sig = parse_signal(n);
    INFO(n);
    REQUIRE(sig);
    CHECK(signal_name(*sig) == std::string{"SIG"} + n);
    CHECK(parse_signal(std::to_string(*sig)) == sig);
  }
  CHECK(signal_name(SIGTERM) == "SIGTERM");
  CHECK(signal_name(99) == "SIG99");
}
