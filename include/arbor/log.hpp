#pragma once

// Where arbor's own log lines go: its events (with tree_options::log_events),
// warnings and errors. By default to stderr, one line each:
//
//   2026-11-21T21:42:02.123 info  supervisor=web event=child_started ...
//
// An embedding service routes them into its own logging, e.g. spdlog:
//
//   arbor::set_log_sink([](arbor::log_level l, std::string_view line) {
//     spdlog::log(l >= arbor::log_level::error ? spdlog::level::err
//                 : l == arbor::log_level::warning ? spdlog::level::warn
//                 : spdlog::level::info, "{}", line);
//   });

#include <functional>
#include <string_view>

namespace arbor {

enum class log_level { info, warning, error, critical };

/// "info", "warning", "error", "critical".
const char* to_string(log_level l);

/// Receives each line, without a newline. Called from any of arbor's
/// threads, one call at a time.
using log_sink = std::function<void(log_level, std::string_view line)>;

/// Sends every later line to `sink`; an empty one restores stderr.
void set_log_sink(log_sink sink);

} // namespace arbor
