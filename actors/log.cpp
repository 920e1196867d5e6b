#include "log.hpp"

#include <memory>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "arbor/spdlog.hpp"

namespace arbor {

const char* to_string(log_level l) {
  switch (l) {
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::critical: return "critical";
  }
  return "?";
}

namespace {

/// The stderr sink of the default logger: log_color() sets its colour mode.
/// Never destroyed (like the logger below): a thread may still log while
/// statics are destroyed at exit.
std::shared_ptr<spdlog::sinks::stderr_color_sink_mt> stderr_sink() {
  static const auto* sink =
    new std::shared_ptr<spdlog::sinks::stderr_color_sink_mt>{
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  return *sink;
}

/// "2026-11-21T21:42:02.123 info  text" (local time; the level coloured on
/// a terminal that is not "dumb"), not in spdlog's registry: an embedder's
/// own "arbor" logger is theirs.
std::shared_ptr<spdlog::logger> make_default() {
  auto l = std::make_shared<spdlog::logger>("arbor", stderr_sink());
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  return l;
}

std::shared_ptr<spdlog::logger> default_logger() {
  static const auto* l = new std::shared_ptr<spdlog::logger>{make_default()};
  return *l;
}

/// set_logger's; nullptr: the default. Never destroyed, as above.
std::shared_ptr<spdlog::logger>& chosen() {
  static auto* l = new std::shared_ptr<spdlog::logger>;
  return *l;
}

spdlog::level::level_enum to_spdlog(log_level l) {
  switch (l) {
    case log_level::info: return spdlog::level::info;
    case log_level::warning: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    case log_level::critical: return spdlog::level::critical;
  }
  return spdlog::level::err;
}

} // namespace

void set_logger(std::shared_ptr<spdlog::logger> l) {
  std::atomic_store(&chosen(), std::move(l));
}

std::shared_ptr<spdlog::logger> logger() {
  auto l = std::atomic_load(&chosen());
  return l ? l : default_logger();
}

namespace detail {

bool log_enabled(log_level l) {
  return logger()->should_log(to_spdlog(l));
}

void log_line(log_level l, std::string_view text) {
  auto lg = logger();
  lg->log(to_spdlog(l), spdlog::string_view_t{text.data(), text.size()});
  // A supervisor's errors are what an operator reads after a crash of the
  // daemon: they must not wait in a buffer.
  if (l >= log_level::error) lg->flush();
}

void log_color(bool when_terminal) {
  stderr_sink()->set_color_mode(when_terminal ? spdlog::color_mode::automatic
                                              : spdlog::color_mode::never);
}

} // namespace detail
} // namespace arbor
