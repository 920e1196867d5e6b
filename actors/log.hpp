#pragma once

// arbor's own log lines, formatted with fmt, written through the spdlog
// logger of arbor/spdlog.hpp.

#include <string_view>
#include <utility>

#include <fmt/core.h>

namespace arbor {

enum class log_level { info, warning, error, critical };

/// "info", "warning", "error", "critical".
const char* to_string(log_level l);

namespace detail {

/// Whether a line of level `l` would be written (the logger's level).
bool log_enabled(log_level l);

/// One line to the current logger.
void log_line(log_level l, std::string_view text);

/// The default (stderr) logger colours the level: `true` = when stderr is a
/// terminal, `false` = never.
void log_color(bool when_terminal);

template <class... Ts>
void log_at(log_level l, fmt::format_string<Ts...> f, Ts&&... xs) {
  if (log_enabled(l)) log_line(l, fmt::format(f, std::forward<Ts>(xs)...));
}
template <class... Ts>
void log_info(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_at(log_level::info, f, std::forward<Ts>(xs)...);
}
template <class... Ts>
void log_warn(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_at(log_level::warning, f, std::forward<Ts>(xs)...);
}
template <class... Ts>
void log_error(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_at(log_level::error, f, std::forward<Ts>(xs)...);
}
template <class... Ts>
void log_critical(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_at(log_level::critical, f, std::forward<Ts>(xs)...);
}

} // namespace detail
} // namespace arbor
