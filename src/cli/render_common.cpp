// Shared by the render_*.cpp files: colour, padding, tolerant JSON access,
// display widths and the human-readable durations, sizes and CPU shares.

#include <cmath>
#include <cstdio>

#include "cli/render_detail.hpp"

namespace arbor::cli {

namespace detail {

// --- colour ------------------------------------------------------------------

std::string paint(const std::string& text, const char* style, bool color) {
  if (!color || !*style || text.empty()) return text;
  return style + text + ansi::reset;
}

const char* state_style(const std::string& state) {
  if (state == "running" || state == "ready") return ansi::green;
  if (state == "starting" || state == "backoff" || state == "stopping") return ansi::yellow;
  if (state == "failed") return ansi::red;
  if (state == "stopped") return ansi::dim;
  return ansi::none;
}

const char* reason_style(const std::string& state) {
  if (state == "failed") return ansi::red;
  if (state == "backoff") return ansi::yellow;
  return ansi::dim;
}

// --- text --------------------------------------------------------------------

std::string pad_right(std::string s, size_t width) {
  auto w = display_width(s);
  if (w < width) s.append(width - w, ' ');
  return s;
}

std::string pad_left(const std::string& s, size_t width) {
  auto w = display_width(s);
  return w < width ? std::string(width - w, ' ') + s : s;
}

std::string rtrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// --- tolerant JSON access ----------------------------------------------------

std::string get_str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<double> get_num(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

int64_t get_int(const json& j, const char* key, int64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return fallback;
}

const json& get_array(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::vector<std::string> get_strings(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& x : get_array(j, key))
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

bool is_group(const json& node) {
  auto kind = get_str(node, "kind");
  if (!kind.empty()) return kind == "group";
  return node.is_object() && node.contains("children");
}

} // namespace detail

using namespace detail;

// --- public ------------------------------------------------------------------

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') { // CSI ... final byte
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string truncate_display(const std::string& s, size_t width, bool color) {
  if (width == 0 || display_width(s) <= width) return s;
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') { // keep escapes, they take no room
      size_t end = i + 2;
      while (end < s.size() && !(s[end] >= 0x40 && s[end] <= 0x7e)) ++end;
      out.append(s, i, end + 1 - i);
      i = end;
      continue;
    }
    if ((c & 0xC0) != 0x80 && shown++ == width - 1) break; // room left for "…"
    out += s[i];
  }
  out += "…";
  if (color) out += ansi::reset;
  return out;
}

std::string human_duration(int64_t ms) {
  if (ms < 0) ms = 0;
  char buf[48];
  int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (m < 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(m),
                  static_cast<long long>(s % 60));
  else if (h < 24)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(h),
                  static_cast<long long>(m % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(d),
                  static_cast<long long>(h % 24));
  return buf;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + "B";
  static const char units[] = "KMGTPE";
  double v = static_cast<double>(bytes);
  int unit = -1;
  do { // one more unit when rounding would print "1024.0"
    v /= 1024;
    ++unit;
  } while (std::round(v * 10) >= 10240 && unit < 5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%c", v, units[unit]);
  return buf;
}

std::string human_cpu(double percent) {
  if (!std::isfinite(percent) || percent < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", percent);
  return buf;
}

} // namespace arbor::cli
