// libFuzzer target: parse_cron + next_fire (config/cron.hpp), and POSIX TZ
// rules (time_zone::from_posix, what `cron_tz` zones fall back to).
//
// Input: line 1 a cron expression; optional line 2 a POSIX TZ string
// ("CET-1CEST,M3.5.0,M10.5.0/3"); optional line 3 the decimal Unix time to
// search from (besides a few fixed instants).
//
// Checks, besides memory safety and UB, against brute force in UTC: the fire
// time is after the start, matches every field, and no earlier second/minute
// in between matches; "never" only when no day in the horizon matches. In the
// TZ zone: the fire time is after the start and its local time matches,
// unless it is the instant a spring-forward gap ends.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cron.hpp"
#include "config/timezone.hpp"
#include "fuzz_check.hpp"

using namespace arbor::config;
using clock_type = std::chrono::system_clock;

namespace {

constexpr int64_t day = 86400;

std::string_view next_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  auto line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  return line;
}

/// Whether the wall-clock time `local` (seconds since 1970 local) matches.
bool matches(const cron_expr& c, int64_t local) {
  int64_t days = local / day - (local % day < 0 ? 1 : 0);
  auto sod = local - days * day;
  auto date = detail::civil_from_days(days);
  return c.day_matches(date.month, date.day, detail::weekday_from_days(days))
         && c.hours[static_cast<size_t>(sod / 3600)] && c.minutes[static_cast<size_t>(sod / 60 % 60)]
         && c.seconds[static_cast<size_t>(sod % 60)];
}

int64_t seconds_of(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void check_utc(const cron_expr& c, int64_t from) {
  auto fire = next_fire(c, clock_type::time_point{std::chrono::seconds{from}});
  if (!fire) {
    // Never: then no day of the next 8 years may match (the search's horizon
    // is 8 * 366 days; stay inside it).
    int64_t first = from / day + 1;
    for (int64_t d = first; d < first + 8 * 365; ++d) {
      auto date = detail::civil_from_days(d);
      FUZZ_CHECK(!c.day_matches(date.month, date.day, detail::weekday_from_days(d)),
                 "next_fire gave up although a day matches");
    }
    return;
  }
  int64_t t = seconds_of(*fire);
  FUZZ_CHECK(t > from, "fires strictly after the start");
  FUZZ_CHECK(matches(c, t), "the fire time matches every field");
  // Nothing earlier matches: brute force over short gaps.
  if (!c.has_seconds && t - from <= 2 * day) {
    for (int64_t m = (from / 60 + 1) * 60; m < t; m += 60)
      FUZZ_CHECK(!matches(c, m), "an earlier minute matches");
  } else if (c.has_seconds && t - from <= 3600) {
    for (int64_t s = from + 1; s < t; ++s) FUZZ_CHECK(!matches(c, s), "an earlier second matches");
  }
}

void check_zone(const cron_expr& c, const time_zone& tz, int64_t from) {
  auto fire = next_fire(c, clock_type::time_point{std::chrono::seconds{from}}, tz);
  if (!fire) return;
  int64_t t = seconds_of(*fire);
  FUZZ_CHECK(t > from, "fires strictly after the start (zone)");
  int off = tz.offset_at(t);
  bool gap_end = tz.offset_at(t - 1) != off;
  FUZZ_CHECK(matches(c, t + off) || gap_end,
             "the fire time's local time matches, or it ends a gap");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  auto expr = next_line(rest);
  auto tz_text = next_line(rest);
  auto from_text = next_line(rest);

  std::vector<int64_t> starts = {0, 1774742399 /* 2026-03-28 23:59:59 UTC */,
                                 1709164800 /* 2024-02-29 */, 4102444799 /* 2099-12-31 */};
  // A start after 2242 (2^33 s) could fire past system_clock's range (2262).
  if (!from_text.empty() && from_text.size() <= 10) {
    int64_t v = 0;
    bool digits = true;
    for (char ch : from_text) {
      if (ch < '0' || ch > '9') digits = false;
      else v = v * 10 + (ch - '0');
    }
    if (digits && v < (int64_t{1} << 33)) starts.push_back(v);
  }

  std::string error;
  std::optional<time_zone> tz;
  if (!tz_text.empty()) {
    tz = time_zone::from_posix(tz_text, error);
    if (!tz) {
      FUZZ_CHECK(!error.empty(), "a rejected TZ string has a message");
    } else {
      for (int64_t s : starts) {
        int off = tz->offset_at(s);
        FUZZ_CHECK(off > -7 * day && off < 7 * day, "offsets stay within a week");
      }
    }
  }

  error.clear();
  auto c = parse_cron(expr, error);
  if (!c) {
    FUZZ_CHECK(!error.empty(), "a rejected expression has a message");
    return 0;
  }
  for (int64_t s : starts) {
    check_utc(*c, s);
    if (tz) check_zone(*c, *tz, s);
  }
  return 0;
}
