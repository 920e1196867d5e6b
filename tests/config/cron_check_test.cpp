#include <catch2/catch.hpp>

#include "config/cron_check.hpp"

using arbor::config::detail::cron_error;
using arbor::config::detail::timezone_error;

TEST_CASE("cron_check: valid expressions") {
  const char* ok[] = {
    "* * * * *",        "0 */6 * * *",       "*/15 9-17 * * mon-fri", "0 0 1 jan *",
    "0 0 1,15 * *",     "30 2 * * 0",        "30 2 * * 7",            "0 0 * * SUN",
    "0 12 * JAN-Mar *", "0-30/10 * * * *",   "0 0 31 12 6",           "*/5 * * * * *",
    "59 59 23 31 12 7", "0 0 * * mon,wed,fri", "  0   0  *  *  *  ",
  };
  for (auto expr : ok) {
    INFO(expr);
    CHECK_FALSE(cron_error(expr));
  }
}

TEST_CASE("cron_check: invalid expressions name the bad field") {
  struct bad {
    const char* expr;
    const char* message;
  };
  const bad cases[] = {
    {"", "expected 5 fields"},
    {"* * * *", "got 4"},
    {"* * * * * * *", "got 7"},
    {"@daily", "got 1"},
    {"60 * * * *", "bad minute field '60': 60 is out of range 0-59"},
    {"* 24 * * *", "bad hour field '24'"},
    {"* * 0 * *", "bad day-of-month field '0': 0 is out of range 1-31"},
    {"* * 32 * *", "bad day-of-month field"},
    {"* * * 13 *", "bad month field '13'"},
    {"* * * 0 *", "bad month field '0'"},
    {"* * * * 8", "bad day-of-week field '8': 8 is out of range 0-7"},
    {"* * * foo *", "bad month field 'foo': unknown name 'foo'"},
    {"* * * * mon-frx", "unknown name 'frx'"},
    {"* * * * monday", "unknown name 'monday'"},
    {"* * * jan * ", nullptr},
    {"*/0 * * * *", "step must be at least 1"},
    {"*/x * * * *", "step 'x' is not a number"},
    {"*/ * * * *", "step '' is not a number"},
    {"*/60 * * * *", "step 60 is larger than 59"},
    {"5/10 * * * *", "a step needs '*' or a range"},
    {"30-10 * * * *", "range 30-10 is backwards"},
    {"1,,2 * * * *", "empty list item"},
    {"1, * * * *", "empty list item"},
    {"a * * * *", "bad minute field 'a': 'a' is not a number"},
    {"1x * * * *", "'1x' is not a number"},
    {"? * * * *", "bad minute field '?'"},
    {"- * * * *", "missing value"},
    {"60 0 0 * * *", "bad second field '60'"},
    {"0 60 0 * * *", "bad minute field '60'"},
  };
  for (const auto& c : cases) {
    INFO(c.expr);
    auto err = cron_error(c.expr);
    if (!c.message) {
      CHECK_FALSE(err);
      continue;
    }
    REQUIRE(err);
    CHECK_THAT(*err, Catch::Contains(c.message));
  }
}

TEST_CASE("cron_check: time zones must exist under zoneinfo") {
  CHECK_FALSE(timezone_error("UTC"));
  CHECK_FALSE(timezone_error("UTC", "/nonexistent"));
  CHECK_FALSE(timezone_error("Europe/Berlin"));
  CHECK_THAT(*timezone_error(""), Catch::Contains("must not be empty"));
  CHECK_THAT(*timezone_error("../etc/passwd"), Catch::Contains("invalid time zone"));
  CHECK_THAT(*timezone_error("Europe/../../etc/passwd"), Catch::Contains("invalid time zone"));
  CHECK_THAT(*timezone_error("/etc/localtime"), Catch::Contains("invalid time zone"));
  CHECK_THAT(*timezone_error("Mars/Olympus"), Catch::Contains("unknown time zone 'Mars/Olympus'"));
  CHECK_THAT(*timezone_error("Europe"), Catch::Contains("unknown time zone")); // a directory
  CHECK_THAT(*timezone_error("zone.tab"), Catch::Contains("unknown time zone")); // not TZif
  CHECK_THAT(*timezone_error("Europe/Berln"), Catch::Contains("did you mean 'Europe/Berlin'?"));
  CHECK_THAT(*timezone_error("Europe/Berlin", "/nonexistent"), Catch::Contains("unknown time zone"));
}
