#pragma once

// Internal to the render_*.cpp files (not part of the CLI's API): colour,
// text and tolerant-JSON helpers, and the instance view that `status`,
// `show` and `tree` share.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/render.hpp"

namespace arbor::cli::detail {

using nlohmann::json;

// --- colour ------------------------------------------------------------------

namespace ansi {
inline constexpr const char* none = "";
inline constexpr const char* bold = "\x1b[1m";
inline constexpr const char* dim = "\x1b[2m";
inline constexpr const char* red = "\x1b[31m";
inline constexpr const char* green = "\x1b[32m";
inline constexpr const char* yellow = "\x1b[33m";
inline constexpr const char* reset = "\x1b[0m";
} // namespace ansi

/// `text` in `style` (with a reset after) when `color`; else unchanged.
std::string paint(const std::string& text, const char* style, bool color);
const char* state_style(const std::string& state);
/// The style of a reason shown beside an instance or group in `state`.
const char* reason_style(const std::string& state);

// --- text --------------------------------------------------------------------

std::string pad_right(std::string s, size_t width);
std::string pad_left(const std::string& s, size_t width);
std::string rtrim(std::string s);
bool starts_with(const std::string& s, const std::string& prefix);
/// "1 group", "2 groups".
std::string plural(size_t n, const char* word);
std::string join(const std::vector<std::string>& parts, const std::string& sep);

// --- tolerant JSON access ----------------------------------------------------

std::string get_str(const json& j, const char* key);
std::optional<double> get_num(const json& j, const char* key);
int64_t get_int(const json& j, const char* key, int64_t fallback = 0);
const json& get_array(const json& j, const char* key);
std::vector<std::string> get_strings(const json& j, const char* key);

/// A tree node that is a group (its "kind", else whether it has children).
bool is_group(const json& node);

// --- instances (render_status.cpp) -------------------------------------------

struct instance_view {
  std::string id, app, state, last_exit, reason;
  int64_t index = 0, pid = 0, uptime_ms = 0, restarts = 0;
  int64_t short_runs = 0;   ///< consecutive runs shorter than min_uptime
  int64_t next_try_ms = 0;  ///< backoff: until the next try; 0 = not known
  std::optional<double> memory, cpu;
  bool started = false;     ///< its app was added by `arbor start -- CMD` ("from")
};

instance_view read_instance(const json& j);

/// Why an instance is down, for the states where that is news: failed,
/// backoff (with the time to the next try and the short runs in a row that
/// max_restarts counts), and stopped by a decision ("stopped" alone says
/// nothing).
std::string instance_reason(const instance_view& i);

std::string memory_text(const instance_view& i);
std::string cpu_text(const instance_view& i);

/// The instance table of `status` and `show` ("no instances" when empty).
std::string render_instances(const std::vector<instance_view>& list, bool color);

} // namespace arbor::cli::detail
