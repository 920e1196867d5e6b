#pragma once

// Where arbor's own log lines go: its events (with tree_options::log_events),
// warnings and errors, through an spdlog logger. By default a logger named
// "arbor" writing to stderr, one line each:
//
//   2026-11-21T21:42:02.123 info  supervisor=web event=child_started ...
//
// An embedding service hands arbor its own logger (with the sinks, pattern
// and level it likes), or adds its sinks to arbor's:
//
//   arbor::set_logger(spdlog::default_logger());
//   arbor::set_logger(std::make_shared<spdlog::logger>("arbor", my_sinks.begin(), my_sinks.end()));
//
// Levels: events are info (a crash: warning; giving up: error), then
// warnings, errors and critical. This is the one public header that names an
// spdlog type (forward-declared: include <spdlog/spdlog.h> yourself);
// arbor/arbor.hpp does not include it.

#include <memory>

namespace spdlog {
class logger;
}

namespace arbor {

/// Sends every later line to `logger` (called from any of arbor's threads;
/// spdlog's `_mt` sinks are safe for that). nullptr restores the default
/// stderr logger.
void set_logger(std::shared_ptr<spdlog::logger> logger);

/// The logger arbor writes to now: the one set_logger gave, else the default.
std::shared_ptr<spdlog::logger> logger();

} // namespace arbor
