#pragma once

// A time zone read from the system's zoneinfo (TZif) data, for `cron_tz`.
// Pure lookups after loading: offset_at() never touches the file system, the
// TZ environment variable or the C library's global time zone state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbor::config {

namespace detail {

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

struct civil_date {
  int64_t year;
  unsigned month; // 1-12
  unsigned day;   // 1-31
};
/// Inverse of days_from_civil.
civil_date civil_from_days(int64_t days);

/// 0 = Sunday .. 6 = Saturday.
unsigned weekday_from_days(int64_t days);

bool is_leap_year(int64_t y);
unsigned days_in_month(int64_t y, unsigned m);

/// One end of a POSIX TZ daylight-saving rule (`Jn`, `n` or `Mm.w.d`).
struct posix_date {
  enum class kind : uint8_t { julian_no_leap, julian_zero, month_week_day };
  kind form = kind::month_week_day;
  int day = 0;       // Jn: 1-365 (Feb 29 never counted); n: 0-365
  int month = 1;     // Mm.w.d: 1-12
  int week = 1;      // 1-5, 5 = the last such weekday of the month
  int weekday = 0;   // 0 = Sunday
  int32_t time = 7200; // seconds after local midnight (-167h..167h), default 02:00
};

/// A parsed POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3".
struct posix_rule {
  int32_t std_offset = 0; // seconds east of UTC (POSIX writes them west)
  bool has_dst = false;
  int32_t dst_offset = 0;
  posix_date start;       // when DST begins, in local standard time
  posix_date end;         // when DST ends, in local daylight time
};

} // namespace detail

class time_zone {
public:
  /// Loads `name` ("Europe/Berlin") from `zoneinfo_dir`. "UTC" and "" are UTC
  /// and read no file. TZif versions 1-3 are read; the 64-bit block is used
  /// when present, and the footer's POSIX TZ rule covers instants after the
  /// last transition. Leap-second records are ignored (POSIX time). On failure
  /// returns nullopt and sets `error`: bad name (absolute, ".."), missing
  /// file, or data that is not valid TZif.
  static std::optional<time_zone> load(const std::string& name, std::string& error,
                                       const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

  /// A zone given by a POSIX TZ string alone (the TZif footer syntax), e.g.
  /// "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0530>-5:30". A DST name without
  /// rules gets the US rules M3.2.0,M11.1.0 (as tzcode does).
  static std::optional<time_zone> from_posix(std::string_view tz, std::string& error);

  static time_zone utc();

  /// Seconds east of UTC in effect at the instant `utc_seconds` (Unix time).
  /// Before the first transition the zone's first local time type applies.
  int offset_at(int64_t utc_seconds) const;

  /// The name it was loaded under ("UTC" for utc()).
  std::string name() const { return name_; }

private:
  time_zone() = default;

  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // ascending Unix times
  std::vector<uint8_t> transition_types_; // index into type_offsets_, per transition
  std::vector<int32_t> type_offsets_{0};  // local time types: seconds east of UTC
  std::optional<detail::posix_rule> rule_; // after the last transition
};

} // namespace arbor::config
