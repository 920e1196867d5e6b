#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "config/cron.hpp"

using namespace std::chrono;
using arbor::config::cron_expr;
using arbor::config::next_fire;
using arbor::config::parse_cron;
using arbor::config::time_zone;
namespace detail = arbor::config::detail;

namespace {

/// "2026-03-29 01:00:00", always UTC.
system_clock::time_point at(const char* text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  REQUIRE(std::sscanf(text, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6);
  auto days = detail::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return system_clock::time_point{seconds{days * 86400 + h * 3600 + mi * 60 + s}};
}

std::string text(std::optional<system_clock::time_point> t) {
  if (!t) return "never";
  auto secs = floor<seconds>(*t).time_since_epoch().count();
  auto days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  auto sod = secs - days * 86400;
  auto d = detail::civil_from_days(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld",
                static_cast<long long>(d.year), d.month, d.day, static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  return buf;
}

cron_expr cron(const char* expr) {
  std::string error;
  auto c = parse_cron(expr, error);
  INFO(expr << ": " << error);
  REQUIRE(c);
  return *c;
}

/// The next fire after `after` (UTC text), as UTC text.
std::string next(const char* expr, const char* after, const time_zone& tz = time_zone::utc()) {
  return text(next_fire(cron(expr), at(after), tz));
}

time_zone system_zone(const std::string& name) {
  std::string error;
  auto tz = time_zone::load(name, error);
  INFO("this test reads /usr/share/zoneinfo: install tzdata (scripts/install-deps.sh); " << error);
  REQUIRE(tz);
  return *tz;
}

template <size_t N>
std::string bits(const std::bitset<N>& b) {
  std::string out;
  for (size_t i = 0; i < N; ++i)
    if (b[i]) out += (out.empty() ? "" : ",") + std::to_string(i);
  return out;
}

} // namespace

TEST_CASE("cron: parses steps, lists, ranges and names into sets") {
  auto quarter = cron("*/15 * * * *");
  CHECK(bits(quarter.minutes) == "0,15,30,45");
  CHECK(bits(quarter.seconds) == "0");
  CHECK_FALSE(quarter.has_seconds);
  CHECK(quarter.hours.all());
  CHECK(bits(quarter.dom) == bits(std::bitset<32>{0xfffffffeu}));
  CHECK(bits(quarter.months) == "1,2,3,4,5,6,7,8,9,10,11,12");
  CHECK(bits(quarter.dow) == "0,1,2,3,4,5,6");

  CHECK(bits(cron("5-50/10 * * * *").minutes) == "5,15,25,35,45");
  CHECK(bits(cron("1,2,5-7 * * * *").minutes) == "1,2,5,6,7");
  CHECK(bits(cron("0 9-17/4 * * *").hours) == "9,13,17");
  auto named = cron("0 0 * JAN-mar Mon-FRI");
  CHECK(bits(named.months) == "1,2,3");
  CHECK(bits(named.dow) == "1,2,3,4,5");
  CHECK(bits(cron("0 0 * * 7").dow) == "0");
  CHECK(bits(cron("0 0 * * 5-7").dow) == "0,5,6");
  CHECK(bits(cron("0 0 * * */2").dow) == "0,2,4,6");
  CHECK(bits(cron("0 0 1,15,31 * *").dom) == "1,15,31");

  auto secs = cron("*/10 * * * * *");
  CHECK(secs.has_seconds);
  CHECK(bits(secs.seconds) == "0,10,20,30,40,50");
  CHECK(secs.minutes.all());
}

TEST_CASE("cron: a day field starting with '*' is unrestricted for the OR rule") {
  auto both_star = cron("0 0 * * *");
  CHECK((both_star.dom_any && both_star.dow_any));
  auto both_set = cron("0 0 1 * mon");
  CHECK_FALSE((both_set.dom_any || both_set.dow_any));
  CHECK(cron("0 0 */2 * mon").dom_any);
  CHECK(cron("0 0 1 * */2").dow_any);
}

TEST_CASE("cron: parse errors name the field, as the config validator reports them") {
  std::string error;
  CHECK_FALSE(parse_cron("60 * * * *", error));
  CHECK(error == "bad minute field '60': 60 is out of range 0-59");
  CHECK_FALSE(parse_cron("@daily", error));
  CHECK_THAT(error, Catch::Contains("got 1"));
  CHECK_FALSE(parse_cron("5/10 * * * *", error));
  CHECK_THAT(error, Catch::Contains("a step needs '*' or a range"));
  CHECK_FALSE(parse_cron("0 0 * * monday", error));
  CHECK_THAT(error, Catch::Contains("bad day-of-week field 'monday'"));
}

TEST_CASE("cron: steps") {
  CHECK(next("*/15 * * * *", "2026-05-05 10:07:30") == "2026-05-05 10:15:00");
  CHECK(next("*/15 * * * *", "2026-05-05 10:45:00") == "2026-05-05 11:00:00");
  CHECK(next("5-50/10 * * * *", "2026-05-05 10:20:00") == "2026-05-05 10:25:00");
  CHECK(next("5-50/10 * * * *", "2026-05-05 10:45:00") == "2026-05-05 11:05:00");
  CHECK(next("0 */6 * * *", "2026-05-05 18:00:00") == "2026-05-06 00:00:00");
}

TEST_CASE("cron: lists, ranges and names") {
  CHECK(next("0 12 1,15 * *", "2026-05-01 12:00:00") == "2026-05-15 12:00:00");
  CHECK(next("0 9 * JAN-MAR mon-fri", "2026-03-31 09:00:00") == "2027-01-01 09:00:00"); // a Friday
  CHECK(next("0 9 * JAN-MAR mon-fri", "2027-01-01 09:00:00") == "2027-01-04 09:00:00"); // Monday
  CHECK(next("30 8 * * SAT,sun", "2026-03-02 00:00:00") == "2026-03-07 08:30:00");
}

TEST_CASE("cron: day of week 7 is Sunday, like 0") {
  for (auto expr : {"0 12 * * 7", "0 12 * * 0", "0 12 * * sun"}) {
    INFO(expr);
    CHECK(next(expr, "2026-03-02 00:00:00") == "2026-03-08 12:00:00");
  }
  CHECK(next("0 12 * * 6-7", "2026-03-07 12:00:00") == "2026-03-08 12:00:00");
}

TEST_CASE("cron: day-of-month OR day-of-week when both are restricted") {
  // February 2026: Fridays are the 6th, 13th, 20th and 27th.
  CHECK(next("0 0 13 * fri", "2026-02-01 00:00:00") == "2026-02-06 00:00:00");
  CHECK(next("0 0 13 * fri", "2026-02-06 00:00:00") == "2026-02-13 00:00:00");
  CHECK(next("0 0 13 * fri", "2026-02-13 00:00:00") == "2026-02-20 00:00:00");
  CHECK(next("0 0 1 * mon", "2026-02-24 00:00:00") == "2026-03-01 00:00:00"); // a Sunday
  CHECK(next("0 0 1 * mon", "2026-03-01 00:00:00") == "2026-03-02 00:00:00"); // Monday
  // One side '*': only the other counts.
  CHECK(next("0 0 * * fri", "2026-02-01 00:00:00") == "2026-02-06 00:00:00");
  CHECK(next("0 0 13 * *", "2026-02-01 00:00:00") == "2026-02-13 00:00:00");
  // Vixie: a stepped '*' is still '*' for this rule, so both must match.
  CHECK(next("0 0 */2 * fri", "2026-02-01 00:00:00") == "2026-02-13 00:00:00");
  CHECK(next("0 0 */2 * fri", "2026-02-13 00:00:00") == "2026-02-27 00:00:00");
}

TEST_CASE("cron: month ends skip months without the day") {
  CHECK(next("0 0 31 * *", "2026-01-31 00:00:00") == "2026-03-31 00:00:00");
  CHECK(next("0 0 31 * *", "2026-03-31 00:00:00") == "2026-05-31 00:00:00");
  CHECK(next("0 0 30 * *", "2026-01-30 00:00:00") == "2026-03-30 00:00:00");
  CHECK(next("0 0 1 * *", "2026-01-31 23:59:59") == "2026-02-01 00:00:00");
}

TEST_CASE("cron: leap years") {
  CHECK(next("0 0 29 2 *", "2025-03-01 00:00:00") == "2028-02-29 00:00:00");
  CHECK(next("0 0 29 2 *", "2028-02-29 00:00:00") == "2032-02-29 00:00:00");
  CHECK(next("0 0 29 2 *", "2096-03-01 00:00:00") == "2104-02-29 00:00:00"); // 2100 is not leap
  CHECK(next("0 0 * 2 *", "2028-02-28 00:00:00") == "2028-02-29 00:00:00");
  CHECK(next("0 0 * 2 *", "2100-02-28 00:00:00") == "2101-02-01 00:00:00");
}

TEST_CASE("cron: year rollover") {
  CHECK(next("0 0 1 1 *", "2026-12-31 23:59:59") == "2027-01-01 00:00:00");
  CHECK(next("59 23 31 12 *", "2026-12-31 23:59:00") == "2027-12-31 23:59:00");
  CHECK(next("*/15 * * * *", "2026-12-31 23:50:00") == "2027-01-01 00:00:00");
  CHECK(next("0 0 * nov *", "2026-12-01 00:00:00") == "2027-11-01 00:00:00");
}

TEST_CASE("cron: a leading seconds field") {
  CHECK(next("*/10 * * * * *", "2026-05-05 12:00:00") == "2026-05-05 12:00:10");
  CHECK(next("*/10 * * * * *", "2026-05-05 12:00:55") == "2026-05-05 12:01:00");
  CHECK(next("15,45 30 2 * * *", "2026-05-05 02:30:15") == "2026-05-05 02:30:45");
  CHECK(next("0 30 2 * * *", "2026-05-05 12:00:00") == next("30 2 * * *", "2026-05-05 12:00:00"));
  CHECK(next("* * * * *", "2026-05-05 12:00:00") == "2026-05-05 12:01:00"); // 5 fields: second 0
}

TEST_CASE("cron: strictly after, at whole seconds") {
  auto every10 = cron("*/10 * * * * *");
  CHECK(text(next_fire(every10, at("2026-05-05 12:00:09") + 999ms)) == "2026-05-05 12:00:10");
  CHECK(text(next_fire(every10, at("2026-05-05 12:00:10"))) == "2026-05-05 12:00:20");
  CHECK(text(next_fire(every10, at("2026-05-05 12:00:10") + 500ms)) == "2026-05-05 12:00:20");
  CHECK(text(next_fire(every10, at("1969-12-31 23:59:59") + 1ms)) == "1970-01-01 00:00:00");
}

TEST_CASE("cron: expressions that never match give nullopt") {
  for (auto expr : {"0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 */2"}) {
    INFO(expr);
    CHECK(next(expr, "2026-01-01 00:00:00") == "never");
  }
  CHECK(text(next_fire(cron_expr{}, at("2026-01-01 00:00:00"))) == "never");
}

TEST_CASE("cron: UTC is the default zone") {
  auto c = cron("0 3 * * *");
  auto after = at("2026-03-29 00:00:00");
  CHECK(next_fire(c, after) == next_fire(c, after, time_zone::utc()));
  CHECK(text(next_fire(c, after)) == "2026-03-29 03:00:00");
}

TEST_CASE("cron: Europe/Berlin, 03:00 local is 02:00 UTC in winter and 01:00 UTC in summer") {
  auto berlin = system_zone("Europe/Berlin");
  CHECK(next("0 3 * * *", "2026-01-15 00:00:00", berlin) == "2026-01-15 02:00:00");
  CHECK(next("0 3 * * *", "2026-07-15 00:00:00", berlin) == "2026-07-15 01:00:00");
  CHECK(next("30 2 * * *", "2100-03-27 12:00:00", berlin) == "2100-03-28 01:00:00"); // footer rule
}

TEST_CASE("cron: Europe/Berlin spring-forward, a skipped time fires when the gap ends") {
  // 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00 UTC).
  auto berlin = system_zone("Europe/Berlin");
  CHECK(next("30 2 * * *", "2026-03-28 12:00:00", berlin) == "2026-03-29 01:00:00");
  CHECK(next("30 2 * * *", "2026-03-29 00:59:59", berlin) == "2026-03-29 01:00:00");
  CHECK(next("30 2 * * *", "2026-03-29 01:00:00", berlin) == "2026-03-30 00:30:00");
  // Every time in the gap maps to the same instant: it fires once.
  CHECK(next("*/15 2 * * *", "2026-03-28 12:00:00", berlin) == "2026-03-29 01:00:00");
  CHECK(next("*/15 2 * * *", "2026-03-29 01:00:00", berlin) == "2026-03-30 00:00:00");
  CHECK(next("59 1 * * *", "2026-03-28 12:00:00", berlin) == "2026-03-29 00:59:00");
  CHECK(next("0 3 * * *", "2026-03-28 12:00:00", berlin) == "2026-03-29 01:00:00");
  CHECK(next("0 * * * *", "2026-03-29 00:00:00", berlin) == "2026-03-29 01:00:00");
  CHECK(next("0 * * * *", "2026-03-29 01:00:00", berlin) == "2026-03-29 02:00:00");
}

TEST_CASE("cron: Europe/Berlin fall-back, a repeated time fires once at its first occurrence") {
  // 2026-10-25 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:xx happens twice.
  auto berlin = system_zone("Europe/Berlin");
  CHECK(next("30 2 * * *", "2026-10-24 12:00:00", berlin) == "2026-10-25 00:30:00");
  CHECK(next("30 2 * * *", "2026-10-25 00:30:00", berlin) == "2026-10-26 01:30:00");
  CHECK(next("30 2 * * *", "2026-10-25 01:10:00", berlin) == "2026-10-26 01:30:00"); // 2nd pass
  CHECK(next("30 3 * * *", "2026-10-24 12:00:00", berlin) == "2026-10-25 02:30:00");
  // Hourly: the second 02:00 (01:00 UTC) is a repeat and does not fire.
  CHECK(next("0 * * * *", "2026-10-25 00:00:00", berlin) == "2026-10-25 02:00:00");
}

TEST_CASE("cron: Europe/Berlin daily jobs fire once per local day across a year") {
  auto berlin = system_zone("Europe/Berlin");
  auto c = cron("30 2 * * *");
  auto t = at("2026-01-01 00:00:00");
  int fires = 0;
  std::string gap_day;
  for (auto end = at("2027-01-01 00:00:00");;) {
    auto n = next_fire(c, t, berlin);
    REQUIRE(n);
    if (*n >= end) break;
    ++fires;
    auto secs = floor<seconds>(*n).time_since_epoch().count();
    auto local = secs + berlin.offset_at(secs);
    if (local % 86400 != 2 * 3600 + 30 * 60) gap_day = text(*n);
    t = *n;
  }
  CHECK(fires == 365);
  CHECK(gap_day == "2026-03-29 01:00:00"); // the only day not at 02:30 local: 03:00
}

TEST_CASE("cron: Australia/Sydney, DST in the southern summer") {
  auto sydney = system_zone("Australia/Sydney");
  CHECK(next("0 3 * * *", "2026-01-15 00:00:00", sydney) == "2026-01-15 16:00:00"); // AEDT +11
  CHECK(next("0 3 * * *", "2026-07-15 00:00:00", sydney) == "2026-07-15 17:00:00"); // AEST +10
  // 2026-10-04 02:00 AEST jumps to 03:00 AEDT (2026-10-03 16:00 UTC).
  CHECK(next("30 2 * * *", "2026-10-03 00:00:00", sydney) == "2026-10-03 16:00:00");
  // 2026-04-05 03:00 AEDT falls back to 02:00 AEST; 02:30 fires at its AEDT occurrence.
  CHECK(next("30 2 * * *", "2026-04-04 00:00:00", sydney) == "2026-04-04 15:30:00");
  CHECK(next("30 2 * * *", "2026-04-04 15:30:00", sydney) == "2026-04-05 16:30:00");
}

TEST_CASE("cron: Asia/Kolkata, a half-hour zone without DST") {
  auto kolkata = system_zone("Asia/Kolkata");
  CHECK(next("0 3 * * *", "2026-06-01 00:00:00", kolkata) == "2026-06-01 21:30:00");
  CHECK(next("0 3 * * *", "2026-12-01 00:00:00", kolkata) == "2026-12-01 21:30:00");
  CHECK(next("*/20 * * * *", "2026-06-01 00:05:00", kolkata) == "2026-06-01 00:10:00"); // :40 local
}
