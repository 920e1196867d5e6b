#include "log.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

#include <unistd.h>

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

std::mutex sink_mutex;
log_sink current_sink; // empty: stderr
/// Colour the level on stderr: -1 not decided yet (the first line decides:
/// a terminal that is not "dumb"), else 0/1. Never per line: the daemon's
/// stderr does not change, and events are logged on every crash.
std::atomic<int> color{-1};

const char* color_of(log_level l) {
  switch (l) {
    case log_level::info: return "\033[32m";
    case log_level::warning: return "\033[33m\033[1m";
    case log_level::error: return "\033[31m\033[1m";
    case log_level::critical: return "\033[1m\033[41m";
  }
  return "";
}

bool stderr_has_colors() {
  if (!::isatty(STDERR_FILENO)) return false;
  const char* term = std::getenv("TERM");
  return term && *term && std::strcmp(term, "dumb") != 0;
}

/// "2026-11-21T21:42:02.123 info  text\n" (local time), one write().
void to_stderr(log_level l, std::string_view text) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[32];
  auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line{stamp, n};
  line += fmt::format(".{:03} ", ms);
  int c = color.load(std::memory_order_relaxed);
  if (c < 0) color.store(c = stderr_has_colors() ? 1 : 0, std::memory_order_relaxed);
  if (c) line += color_of(l);
  line += fmt::format("{:<5}", to_string(l));
  if (c) line += "\033[m";
  line += ' ';
  line += text;
  line += '\n';
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    auto w = ::write(STDERR_FILENO, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; // nowhere to say it
    p += w;
    left -= static_cast<size_t>(w);
  }
}

} // namespace

void set_log_sink(log_sink sink) {
  std::lock_guard<std::mutex> g{sink_mutex};
  current_sink = std::move(sink);
}

namespace detail {

void log_line(log_level l, std::string_view text) {
  std::lock_guard<std::mutex> g{sink_mutex};
  if (current_sink) current_sink(l, text);
  else to_stderr(l, text);
}

void log_color(bool when_terminal) {
  color.store(when_terminal && stderr_has_colors() ? 1 : 0, std::memory_order_relaxed);
}

} // namespace detail
} // namespace arbor
