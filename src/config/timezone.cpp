// TZif reader (RFC 8536 / RFC 9636) and POSIX TZ rules for the footer.

#include "config/timezone.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

namespace arbor::config {

namespace detail {

// Howard Hinnant's civil calendar algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

civil_date civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

unsigned weekday_from_days(int64_t z) {
  return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

bool is_leap_year(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

} // namespace detail

namespace {

using detail::posix_date;
using detail::posix_rule;

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// --- POSIX TZ strings --------------------------------------------------------

class tz_parser {
public:
  explicit tz_parser(std::string_view s) : s_(s) {}

  std::optional<posix_rule> parse(std::string& error) {
    posix_rule r;
    if (!name() || !offset(24, r.std_offset)) return fail(error, "a standard time name and offset");
    r.std_offset = -r.std_offset; // POSIX counts west of Greenwich
    r.dst_offset = r.std_offset;
    if (done()) return r;
    if (!name()) return fail(error, "a daylight time name");
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (!done() && peek() != ',') {
      if (!offset(24, r.dst_offset)) return fail(error, "a daylight time offset");
      r.dst_offset = -r.dst_offset;
    }
    if (done()) { // no rules: tzcode's default, the US rules
      r.start = {posix_date::kind::month_week_day, 0, 3, 2, 0, 7200};
      r.end = {posix_date::kind::month_week_day, 0, 11, 1, 0, 7200};
      return r;
    }
    if (!eat(',') || !date(r.start) || !eat(',') || !date(r.end) || !done())
      return fail(error, "rules ',start[/time],end[/time]'");
    return r;
  }

private:
  std::optional<posix_rule> fail(std::string& error, const char* wanted) {
    error = "bad POSIX TZ string '" + std::string{s_} + "': expected " + wanted + " at offset "
            + std::to_string(i_);
    return std::nullopt;
  }
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  bool name() {
    size_t start = i_;
    if (eat('<')) {
      while (!done() && peek() != '>') {
        char c = peek();
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-') return false;
        ++i_;
      }
      return i_ - start >= 4 && eat('>'); // at least 3 characters inside
    }
    while (std::isalpha(static_cast<unsigned char>(peek()))) ++i_;
    return i_ - start >= 3;
  }

  bool number(int max, int& out) {
    if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
    out = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      out = out * 10 + (s_[i_++] - '0');
      if (out > max) return false;
    }
    return true;
  }

  /// [+-]hh[:mm[:ss]] in seconds, as written (hours up to max_hours).
  bool offset(int max_hours, int32_t& out) {
    int sign = 1;
    if (eat('-')) sign = -1;
    else eat('+');
    int h = 0, m = 0, sec = 0;
    if (!number(max_hours, h)) return false;
    if (eat(':') && (!number(59, m) || (eat(':') && !number(59, sec)))) return false;
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  bool date(posix_date& d) {
    if (eat('J')) {
      d.form = posix_date::kind::julian_no_leap;
      if (!number(365, d.day) || d.day < 1) return false;
    } else if (eat('M')) {
      d.form = posix_date::kind::month_week_day;
      if (!number(12, d.month) || d.month < 1 || !eat('.') || !number(5, d.week) || d.week < 1
          || !eat('.') || !number(6, d.weekday))
        return false;
    } else {
      d.form = posix_date::kind::julian_zero;
      if (!number(365, d.day)) return false;
    }
    d.time = 7200;
    return !eat('/') || offset(167, d.time); // RFC 8536 extends hours to -167..167
  }

  std::string_view s_;
  size_t i_ = 0;
};

/// The day (days since the epoch) on which `d` falls in year `y`.
int64_t rule_day(const posix_date& d, int64_t y) {
  const int64_t jan1 = detail::days_from_civil(y, 1, 1);
  switch (d.form) {
  case posix_date::kind::julian_no_leap:
    return jan1 + d.day - 1 + (detail::is_leap_year(y) && d.day >= 60 ? 1 : 0);
  case posix_date::kind::julian_zero:
    return jan1 + d.day;
  case posix_date::kind::month_week_day:
    break;
  }
  const auto month = static_cast<unsigned>(d.month);
  const int64_t first = detail::days_from_civil(y, month, 1);
  const auto first_wd = static_cast<int>(detail::weekday_from_days(first));
  int64_t day = first + (d.weekday - first_wd + 7) % 7 + (d.week - 1) * 7;
  const int64_t end = first + detail::days_in_month(y, month);
  while (day >= end) day -= 7; // week 5 = the last one
  return day;
}

int32_t rule_offset(const posix_rule& r, int64_t t) {
  if (!r.has_dst) return r.std_offset;
  // The latest rule transition at or before t, from the years around t; on a
  // tie (a zone on permanent DST) the start wins.
  const int64_t y = detail::civil_from_days(floor_div(t + r.std_offset, 86400)).year;
  std::optional<std::pair<int64_t, bool>> latest; // (when, dst begins)
  for (int64_t year = y - 1; year <= y + 1; ++year) {
    const std::pair<int64_t, bool> events[] = {
      {rule_day(r.start, year) * 86400 + r.start.time - r.std_offset, true},
      {rule_day(r.end, year) * 86400 + r.end.time - r.dst_offset, false},
    };
    for (const auto& e : events)
      if (e.first <= t && (!latest || e > *latest)) latest = e;
  }
  return latest && latest->second ? r.dst_offset : r.std_offset;
}

// --- TZif --------------------------------------------------------------------

struct tzif_counts {
  char version = 0;
  uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  uint64_t block_size(unsigned time_size) const {
    return uint64_t{timecnt} * time_size + timecnt + uint64_t{typecnt} * 6 + charcnt
           + uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

uint32_t be32(std::string_view d, size_t at) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) v = v << 8 | static_cast<unsigned char>(d[at + k]);
  return v;
}

int64_t be64(std::string_view d, size_t at) {
  uint64_t v = 0;
  for (size_t k = 0; k < 8; ++k) v = v << 8 | static_cast<unsigned char>(d[at + k]);
  return static_cast<int64_t>(v);
}

std::optional<tzif_counts> read_header(std::string_view d, size_t at) {
  if (d.size() < at + 44 || d.substr(at, 4) != "TZif") return std::nullopt;
  tzif_counts c;
  c.version = d[at + 4];
  uint32_t* fields[] = {&c.isutcnt, &c.isstdcnt, &c.leapcnt, &c.timecnt, &c.typecnt, &c.charcnt};
  for (size_t k = 0; k < 6; ++k) *fields[k] = be32(d, at + 20 + 4 * k);
  return c;
}

struct tzif_data {
  std::vector<int64_t> transitions;
  std::vector<uint8_t> types;
  std::vector<int32_t> offsets;
  std::optional<posix_rule> rule;
};

std::optional<tzif_data> parse_tzif(std::string_view d, std::string& error) {
  auto bad = [&](const std::string& why) -> std::optional<tzif_data> {
    error = "not valid TZif data: " + why;
    return std::nullopt;
  };
  auto head = read_header(d, 0);
  if (!head) return bad("no TZif header");
  size_t pos = 44;
  unsigned time_size = 4;
  if (head->version != 0) {
    if (head->version < '2') return bad("unknown version");
    pos += head->block_size(4);
    head = read_header(d, pos);
    if (!head) return bad("no second header");
    pos += 44;
    time_size = 8;
  }
  const auto& c = *head;
  if (c.typecnt == 0 || c.typecnt > 256 || c.block_size(time_size) > d.size() - pos)
    return bad("counts do not fit the file");
  tzif_data out;
  for (uint32_t k = 0; k < c.timecnt; ++k, pos += time_size) {
    auto t = time_size == 8 ? be64(d, pos) : static_cast<int32_t>(be32(d, pos));
    if (!out.transitions.empty() && t <= out.transitions.back())
      return bad("transition times not ascending");
    out.transitions.push_back(t);
  }
  for (uint32_t k = 0; k < c.timecnt; ++k, ++pos) {
    auto type = static_cast<uint8_t>(d[pos]);
    if (type >= c.typecnt) return bad("transition type out of range");
    out.types.push_back(type);
  }
  for (uint32_t k = 0; k < c.typecnt; ++k, pos += 6) {
    auto off = static_cast<int32_t>(be32(d, pos));
    if (off < -89999 || off > 93599) return bad("UT offset out of range");
    out.offsets.push_back(off);
  }
  pos += c.charcnt + uint64_t{c.leapcnt} * (time_size + 4) + c.isstdcnt + c.isutcnt;
  if (time_size == 8) {
    if (pos >= d.size() || d[pos] != '\n') return bad("missing footer");
    auto end = d.find('\n', pos + 1);
    if (end == std::string_view::npos) return bad("unterminated footer");
    auto footer = d.substr(pos + 1, end - pos - 1);
    if (!footer.empty()) {
      std::string why;
      out.rule = tz_parser{footer}.parse(why);
      if (!out.rule) return bad(why);
    }
  }
  return out;
}

} // namespace

time_zone time_zone::utc() { return time_zone{}; }

std::optional<time_zone> time_zone::from_posix(std::string_view tz, std::string& error) {
  auto rule = tz_parser{tz}.parse(error);
  if (!rule) return std::nullopt;
  time_zone z;
  z.name_ = std::string{tz};
  z.type_offsets_ = {rule->std_offset};
  z.rule_ = rule;
  return z;
}

std::optional<time_zone> time_zone::load(const std::string& name, std::string& error,
                                         const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC") return utc();
  if (name.front() == '/' || name.find("..") != std::string::npos) {
    error = "invalid time zone '" + name + "' (use a zone name such as \"Europe/Berlin\")";
    return std::nullopt;
  }
  const auto file = std::filesystem::path{zoneinfo_dir} / name;
  std::error_code ec;
  auto size = std::filesystem::is_regular_file(file, ec) ? std::filesystem::file_size(file, ec) : 0;
  std::ifstream in{file, std::ios::binary};
  if (ec || size == 0 || !in) {
    error = "unknown time zone '" + name + "' (no file " + file.string() + ")";
    return std::nullopt;
  }
  if (size > (4u << 20)) {
    error = "time zone file " + file.string() + " is too large";
    return std::nullopt;
  }
  std::string data{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  std::string why;
  auto parsed = parse_tzif(data, why);
  if (!parsed) {
    error = "time zone '" + name + "': " + why;
    return std::nullopt;
  }
  time_zone z;
  z.name_ = name;
  z.transitions_ = std::move(parsed->transitions);
  z.transition_types_ = std::move(parsed->types);
  z.type_offsets_ = std::move(parsed->offsets);
  z.rule_ = std::move(parsed->rule);
  return z;
}

int time_zone::offset_at(int64_t t) const {
  if (transitions_.empty() || t > transitions_.back()) {
    if (rule_) return rule_offset(*rule_, t);
    if (transitions_.empty()) return type_offsets_.front();
  }
  if (t < transitions_.front()) return type_offsets_.front();
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  auto k = static_cast<size_t>(std::distance(transitions_.begin(), it)) - 1;
  return type_offsets_[transition_types_[k]];
}

} // namespace arbor::config
