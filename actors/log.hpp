#pragma once

// arbor's own log lines, formatted with fmt, through the sink of
// arbor/log.hpp. (The daemon used spdlog for this; a sink and a timestamp
// are all it needs, and libspdlog was ~0.5 MB of its resident memory.)

#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "arbor/log.hpp"

namespace arbor::detail {

/// One line to the current sink.
void log_line(log_level l, std::string_view text);

/// The default (stderr) sink colours the level: `true` = when stderr is a
/// terminal, `false` = never.
void log_color(bool when_terminal);

template <class... Ts>
void log_info(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_line(log_level::info, fmt::format(f, std::forward<Ts>(xs)...));
}
template <class... Ts>
void log_warn(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_line(log_level::warning, fmt::format(f, std::forward<Ts>(xs)...));
}
template <class... Ts>
void log_error(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_line(log_level::error, fmt::format(f, std::forward<Ts>(xs)...));
}
template <class... Ts>
void log_critical(fmt::format_string<Ts...> f, Ts&&... xs) {
  log_line(log_level::critical, fmt::format(f, std::forward<Ts>(xs)...));
}

} // namespace arbor::detail
