// Cron field validation and zoneinfo lookup.

#include "config/cron_check.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <vector>

#include "config/suggest.hpp"

namespace arbor::config::detail {

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

std::optional<std::string> check_item(std::string_view item, const field_kind& f) {
  std::string error;
  auto slash = item.find('/');
  auto range = item.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto step_text = item.substr(slash + 1);
    bool digits = !step_text.empty();
    int step = 0;
    for (char c : step_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || step > 10000) digits = false;
      else step = step * 10 + (c - '0');
    }
    if (!digits) return "step '" + std::string{step_text} + "' is not a number";
    if (step == 0) return std::string{"step must be at least 1"};
    if (step > f.max) return "step " + std::to_string(step) + " is larger than " + std::to_string(f.max);
    if (range != "*" && range.find('-') == std::string_view::npos)
      return "a step needs '*' or a range before it (e.g. */" + std::to_string(step) + " or 0-30/"
             + std::to_string(step) + ")";
  }
  if (range == "*") return std::nullopt;
  auto dash = range.find('-');
  if (dash == std::string_view::npos) {
    if (!value_of(range, f, error)) return error;
    return std::nullopt;
  }
  auto lo = value_of(range.substr(0, dash), f, error);
  if (!lo) return error;
  auto hi = value_of(range.substr(dash + 1), f, error);
  if (!hi) return error;
  if (*lo > *hi) return "range " + std::string{range} + " is backwards";
  return std::nullopt;
}

std::optional<std::string> check_field(std::string_view text, const field_kind& f) {
  auto fail = [&](const std::string& why) {
    return "bad " + std::string{f.label} + " field '" + std::string{text} + "': " + why;
  };
  if (text.empty()) return fail("empty");
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty()) return fail("empty list item");
    if (auto err = check_item(item, f)) return fail(*err);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return std::nullopt;
}

void list_zones(const std::filesystem::path& dir, const std::filesystem::path& rel,
                std::vector<std::string>& out, int depth) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename();
    if (name == "posix" || name == "right") continue;
    if (it->is_directory(ec)) {
      if (depth < 3) list_zones(it->path(), rel / name, out, depth + 1);
    } else {
      out.push_back((rel / name).generic_string());
    }
  }
}

} // namespace

std::optional<std::string> cron_error(std::string_view expr) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    size_t start = i;
    while (i < expr.size() && !std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    if (i > start) fields.push_back(expr.substr(start, i - start));
  }
  if (fields.size() != 5 && fields.size() != 6)
    return "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with leading "
           "seconds), got "
           + std::to_string(fields.size());
  const field_kind* kinds5[] = {&minute_field, &hour_field, &dom_field, &month_field, &dow_field};
  const field_kind* kinds6[] = {&second_field, &minute_field, &hour_field,
                                &dom_field,    &month_field,  &dow_field};
  auto kinds = fields.size() == 6 ? kinds6 : kinds5;
  for (size_t k = 0; k < fields.size(); ++k)
    if (auto err = check_field(fields[k], *kinds[k])) return err;
  return std::nullopt;
}

std::optional<std::string> timezone_error(std::string_view name, const std::string& zoneinfo_dir) {
  if (name == "UTC") return std::nullopt;
  std::string quoted = "'" + std::string{name} + "'";
  if (name.empty()) return std::string{"time zone must not be empty (e.g. \"Europe/Berlin\")"};
  if (name.front() == '/' || name.find("..") != std::string_view::npos)
    return "invalid time zone " + quoted + " (use a zone name such as \"Europe/Berlin\")";
  std::filesystem::path file = std::filesystem::path{zoneinfo_dir} / std::string{name};
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) {
    std::ifstream in{file, std::ios::binary};
    char magic[4] = {};
    if (in.read(magic, 4) && std::string_view{magic, 4} == "TZif") return std::nullopt;
  }
  std::vector<std::string> zones;
  list_zones(zoneinfo_dir, {}, zones, 0);
  std::vector<std::string_view> candidates{zones.begin(), zones.end()};
  return "unknown time zone " + quoted + did_you_mean(name, candidates);
}

} // namespace arbor::config::detail
