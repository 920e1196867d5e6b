// Cron expression parser and next-fire search in a time zone.

#include "config/cron.hpp"

#include <cctype>
#include <cstdint>
#include <vector>

namespace arbor::config {

namespace {

struct field_kind {
  const char* label;
  int min;
  int max;
  const char* const* names; // names[i] is value min_name + i; nullptr if none
  int min_name;
};

const char* const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

const field_kind second_field{"second", 0, 59, nullptr, 0};
const field_kind minute_field{"minute", 0, 59, nullptr, 0};
const field_kind hour_field{"hour", 0, 23, nullptr, 0};
const field_kind dom_field{"day-of-month", 1, 31, nullptr, 0};
const field_kind month_field{"month", 1, 12, month_names, 1};
const field_kind dow_field{"day-of-week", 0, 7, day_names, 0};

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A number or (for month/day-of-week) a name; sets `error` otherwise.
std::optional<int> value_of(std::string_view text, const field_kind& f, std::string& error) {
  if (text.empty()) {
    error = "missing value";
    return std::nullopt;
  }
  if (std::isdigit(static_cast<unsigned char>(text.front()))) {
    int n = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || n > 10000) {
        error = "'" + std::string{text} + "' is not a number";
        return std::nullopt;
      }
      n = n * 10 + (c - '0');
    }
    if (n < f.min || n > f.max) {
      error = std::to_string(n) + " is out of range " + std::to_string(f.min) + "-"
              + std::to_string(f.max);
      return std::nullopt;
    }
    return n;
  }
  if (f.names) {
    auto name = lower(text);
    for (int i = 0; f.names[i]; ++i)
      if (name == f.names[i]) return f.min_name + i;
    error = "unknown name '" + std::string{text} + "'";
    return std::nullopt;
  }
  error = "'" + std::string{text} + "' is not a number";
  return std::nullopt;
}

/// One list item: `*`, `*/n`, `a`, `a-b` or `a-b/n`, added to `bits`.
bool parse_item(std::string_view item, const field_kind& f, uint64_t& bits, std::string& error) {
  auto slash = item.find('/');
  auto range = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    auto step_text = item.substr(slash + 1);
    bool digits = !step_text.empty();
    step = 0;
    for (char c : step_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || step > 10000) digits = false;
      else step = step * 10 + (c - '0');
    }
    if (!digits) error = "step '" + std::string{step_text} + "' is not a number";
    else if (step == 0) error = "step must be at least 1";
    else if (step > f.max)
      error = "step " + std::to_string(step) + " is larger than " + std::to_string(f.max);
    else if (range != "*" && range.find('-') == std::string_view::npos)
      error = "a step needs '*' or a range before it (e.g. */" + std::to_string(step) + " or 0-30/"
              + std::to_string(step) + ")";
    if (!error.empty()) return false;
  }
  int lo = f.min, hi = f.max;
  if (range != "*") {
    auto dash = range.find('-');
    auto first = value_of(range.substr(0, dash), f, error);
    if (!first) return false;
    lo = hi = *first;
    if (dash != std::string_view::npos) {
      auto last = value_of(range.substr(dash + 1), f, error);
      if (!last) return false;
      hi = *last;
      if (lo > hi) {
        error = "range " + std::string{range} + " is backwards";
        return false;
      }
    }
  }
  for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
  return true;
}

/// A comma list; on failure `error` names the field.
bool parse_field(std::string_view text, const field_kind& f, uint64_t& bits, std::string& error) {
  auto fail = [&](const std::string& why) {
    error = "bad " + std::string{f.label} + " field '" + std::string{text} + "': " + why;
    return false;
  };
  if (text.empty()) return fail("empty");
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty()) return fail("empty list item");
    std::string why;
    if (!parse_item(item, f, bits, why)) return fail(why);
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

template <size_t N>
int next_bit(const std::bitset<N>& bits, int64_t from) {
  for (auto i = static_cast<size_t>(from); i < N; ++i)
    if (bits[i]) return static_cast<int>(i);
  return -1;
}

constexpr int64_t day_seconds = 86400;
constexpr int64_t horizon_days = 8 * 366;

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/// The UTC instant at which the local wall-clock time `local` (seconds since
/// 1970-01-01 00:00 local) fires in `tz`: its first occurrence, or for a time
/// inside a gap the instant the gap ends. Assumes at most one offset change
/// within a day of `local` (true of all real zones); nullopt otherwise.
std::optional<int64_t> resolve(const time_zone& tz, int64_t local) {
  const int before = tz.offset_at(local - day_seconds);
  const int after = tz.offset_at(local + day_seconds);
  std::optional<int64_t> first;
  for (int off : {before, after}) {
    const int64_t t = local - off;
    if (tz.offset_at(t) == off && (!first || t < *first)) first = t;
  }
  if (first || after <= before) return first;
  // A gap: the change happens in (local - after, local - before].
  int64_t lo = local - after, hi = local - before;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (tz.offset_at(mid) == before ? lo : hi) = mid;
  }
  return hi;
}

} // namespace

bool cron_expr::day_matches(unsigned month, unsigned day, unsigned weekday) const {
  if (!months[month]) return false;
  if (dom_any || dow_any) return dom[day] && dow[weekday];
  return dom[day] || dow[weekday];
}

std::optional<cron_expr> parse_cron(std::string_view expr, std::string& error) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    size_t start = i;
    while (i < expr.size() && !std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    if (i > start) fields.push_back(expr.substr(start, i - start));
  }
  if (fields.size() != 5 && fields.size() != 6) {
    error = "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with leading "
            "seconds), got "
            + std::to_string(fields.size());
    return std::nullopt;
  }
  cron_expr c;
  c.has_seconds = fields.size() == 6;
  const field_kind* kinds[] = {&second_field, &minute_field, &hour_field,
                               &dom_field,    &month_field,  &dow_field};
  uint64_t bits[6] = {1, 0, 0, 0, 0, 0}; // seconds = {0} without a seconds field
  const size_t skip = c.has_seconds ? 0 : 1;
  for (size_t k = 0; k < fields.size(); ++k) {
    bits[k + skip] = 0;
    if (!parse_field(fields[k], *kinds[k + skip], bits[k + skip], error)) return std::nullopt;
  }
  bits[5] |= bits[5] >> 7 & 1; // day-of-week 7 is Sunday
  c.seconds = std::bitset<60>{bits[0]};
  c.minutes = std::bitset<60>{bits[1]};
  c.hours = std::bitset<24>{bits[2]};
  c.dom = std::bitset<32>{bits[3]};
  c.months = std::bitset<13>{bits[4]};
  c.dow = std::bitset<8>{bits[5] & 0x7f};
  c.dom_any = fields[fields.size() - 3].front() == '*';
  c.dow_any = fields.back().front() == '*';
  return c;
}

std::optional<std::chrono::system_clock::time_point>
next_fire(const cron_expr& c, std::chrono::system_clock::time_point after, const time_zone& tz) {
  using namespace std::chrono;
  if (c.seconds.none() || c.minutes.none() || c.hours.none() || c.months.none()
      || (c.dom.none() && c.dow.none()))
    return std::nullopt;
  const int64_t from = floor<seconds>(after).time_since_epoch().count();
  // The local time of `from` fires no later than `from` (its first occurrence
  // is at or before it), and resolve() is monotonic: start just past it.
  int64_t local = from + tz.offset_at(from) + 1;
  const int64_t limit = local + horizon_days * day_seconds;
  while (local <= limit) {
    const int64_t days = floor_div(local, day_seconds);
    const int64_t midnight = days * day_seconds;
    const auto sod = static_cast<int>(local - midnight);
    const auto date = detail::civil_from_days(days);
    if (!c.months[date.month]) {
      const int later = next_bit(c.months, date.month + 1); // this year, else next
      const int64_t year = later > 0 ? date.year : date.year + 1;
      const int month = later > 0 ? later : next_bit(c.months, 1);
      local = detail::days_from_civil(year, static_cast<unsigned>(month), 1) * day_seconds;
      continue;
    }
    if (!c.day_matches(date.month, date.day, detail::weekday_from_days(days))) {
      local = midnight + day_seconds;
      continue;
    }
    const int h = sod / 3600, m = sod / 60 % 60, s = sod % 60;
    const int nh = next_bit(c.hours, h);
    if (nh != h) { // a later hour today, or tomorrow
      local = nh < 0 ? midnight + day_seconds : midnight + nh * 3600;
      continue;
    }
    const int nm = next_bit(c.minutes, m);
    if (nm != m) {
      local = midnight + h * 3600 + (nm < 0 ? 3600 : nm * 60);
      continue;
    }
    const int ns = next_bit(c.seconds, s);
    if (ns < 0) {
      local = midnight + h * 3600 + (m + 1) * 60;
      continue;
    }
    local = midnight + h * 3600 + m * 60 + ns;
    if (auto t = resolve(tz, local); t && *t > from) return system_clock::time_point{seconds{*t}};
    ++local; // fired before `after` (a repeated local time): keep looking
  }
  return std::nullopt;
}

} // namespace arbor::config
