#pragma once

// `cron_restart` expressions: parsing and the pure next-fire computation.
//
// Syntax: 5 fields `minute hour day-of-month month day-of-week`, or 6 with a
// leading `second` field. Each field is a comma list of `*`, `*/n`, `a`,
// `a-b` or `a-b/n`; months jan-dec and days sun-sat by name (any case); day of
// week 0-7, 0 and 7 both Sunday. No macros (@daily), no `a/n`, no L/W/#/?.
//
// Day matching (Vixie cron, as Debian's crontab(5) states it): if both
// day-of-month and day-of-week are restricted, i.e. neither field starts with
// `*`, a day matches when EITHER does ("0 0 1 * mon" = the 1st and every
// Monday). Otherwise both must match, which with a plain `*` means only the
// other field counts. As in Vixie cron a field starting with `*` counts as
// unrestricted for this rule even with a step: "0 0 */2 * mon" = odd days that
// are Mondays.

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config/timezone.hpp"

namespace arbor::config {

struct cron_expr {
  std::bitset<60> seconds, minutes;
  std::bitset<24> hours;
  std::bitset<32> dom;    // bits 1..31
  std::bitset<13> months; // bits 1..12
  std::bitset<8> dow;     // bits 0..6, 0 = Sunday (7 is folded into 0)
  bool dom_any = false;   // the day-of-month field starts with '*'
  bool dow_any = false;   // the day-of-week field starts with '*'
  bool has_seconds = false; // 6 fields; otherwise seconds = {0}

  /// Whether the civil date matches months, dom and dow (the Vixie rule above).
  bool day_matches(unsigned month, unsigned day, unsigned weekday) const;
};

/// Parses `expr`. On failure returns nullopt and sets `error` to a message
/// naming the bad field, e.g. "bad minute field '60': 60 is out of range 0-59".
std::optional<cron_expr> parse_cron(std::string_view expr, std::string& error);

/// The first instant strictly after `after` (compared at whole seconds:
/// sub-second parts of `after` are dropped) whose local wall-clock time in
/// `tz` matches `c`. nullopt when nothing matches within 8 years (enough for
/// any real date, including Feb 29 across a non-leap century year like 2100);
/// e.g. "0 0 30 2 *" never matches.
///
/// Daylight-saving changes:
///  - A matching local time that does not exist (skipped by a spring-forward
///    gap) fires at the first instant after the gap, like Vixie cron: the job
///    is not skipped. Berlin, 2026-03-29: "30 2 * * *" fires at 03:00 CEST
///    (01:00 UTC). Several matching times in one gap fire once, at that instant.
///  - A matching local time that occurs twice (fall-back overlap) fires once,
///    at its first occurrence. Berlin, 2026-10-25: "30 2 * * *" fires at
///    02:30 CEST (00:30 UTC), not at 02:30 CET. This holds for every field, so
///    "*/15 * * * *" does not fire during the repeated hour's second pass.
/// The search walks local time and jumps straight to the next matching month,
/// day, hour, minute and second; cost grows with the days skipped, not seconds.
std::optional<std::chrono::system_clock::time_point>
next_fire(const cron_expr& c, std::chrono::system_clock::time_point after,
          const time_zone& tz = time_zone::utc());

} // namespace arbor::config
