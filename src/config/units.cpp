// Durations, sizes and signal names as users write them.

#include "config/units.hpp"

#include <cctype>
#include <csignal>
#include <cstdint>
#include <limits>

namespace arbor::config {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Reads a non-negative decimal number ("12", "1.5", ".5") from the front of
/// `s`. Returns false if there is none; sets `negative` on a leading '-'.
bool read_number(std::string_view& s, long double& out, bool& negative) {
  negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  long double value = 0;
  size_t digits = 0;
  while (!s.empty() && is_digit(s.front())) {
    value = value * 10 + (s.front() - '0');
    s.remove_prefix(1);
    ++digits;
  }
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    long double scale = 0.1L;
    while (!s.empty() && is_digit(s.front())) {
      value += scale * (s.front() - '0');
      scale /= 10;
      s.remove_prefix(1);
      ++digits;
    }
  }
  out = value;
  return digits > 0;
}

std::string_view read_unit(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  auto unit = s.substr(0, n);
  s.remove_prefix(n);
  return unit;
}

constexpr long double max_millis = static_cast<long double>(std::numeric_limits<int64_t>::max() / 2);

} // namespace

std::optional<std::chrono::milliseconds>
parse_duration(std::string_view text, std::chrono::milliseconds bare_unit, std::string& error) {
  auto quoted = "'" + std::string{text} + "'";
  auto s = trim(text);
  if (s.empty()) {
    error = "empty duration (expected e.g. 500ms, 5s, 1m)";
    return std::nullopt;
  }
  long double total = 0;
  bool first = true;
  while (!s.empty()) {
    long double value = 0;
    bool negative = false;
    if (!read_number(s, value, negative)) {
      error = "invalid duration " + quoted + " (expected e.g. 500ms, 5s, 1.5m, 1h, 1d)";
      return std::nullopt;
    }
    if (negative) {
      error = "duration " + quoted + " must not be negative";
      return std::nullopt;
    }
    s = trim(s);
    auto unit = read_unit(s);
    s = trim(s);
    long double factor = 0;
    if (unit.empty()) {
      if (!first || !s.empty()) {
        error = "invalid duration " + quoted + " (each number needs a unit: ms, s, m, h or d)";
        return std::nullopt;
      }
      factor = static_cast<long double>(bare_unit.count());
    } else if (iequals(unit, "ms")) {
      factor = 1;
    } else if (iequals(unit, "s")) {
      factor = 1000;
    } else if (iequals(unit, "m")) {
      factor = 60'000;
    } else if (iequals(unit, "h")) {
      factor = 3'600'000;
    } else if (iequals(unit, "d")) {
      factor = 86'400'000;
    } else {
      error = "unknown unit '" + std::string{unit} + "' in duration " + quoted
              + " (use ms, s, m, h or d)";
      return std::nullopt;
    }
    total += value * factor;
    if (total > max_millis) {
      error = "duration " + quoted + " is too large";
      return std::nullopt;
    }
    first = false;
  }
  return std::chrono::milliseconds{static_cast<int64_t>(total + 0.5L)};
}

std::optional<uint64_t> parse_size(std::string_view text, std::string& error) {
  auto quoted = "'" + std::string{text} + "'";
  auto s = trim(text);
  long double value = 0;
  bool negative = false;
  if (!read_number(s, value, negative)) {
    error = "invalid size " + quoted + " (expected e.g. 512M, 1G, 64K or a number of bytes)";
    return std::nullopt;
  }
  if (negative) {
    error = "size " + quoted + " must not be negative";
    return std::nullopt;
  }
  s = trim(s);
  auto unit = read_unit(s);
  if (!trim(s).empty()) {
    error = "invalid size " + quoted + " (expected e.g. 512M, 1G, 64K or a number of bytes)";
    return std::nullopt;
  }
  long double factor = 1;
  if (!unit.empty()) {
    auto prefix = lower(unit.front());
    auto rest = unit.substr(1);
    int power = -1;
    switch (prefix) {
    case 'b': power = rest.empty() ? 0 : -1; break;
    case 'k': power = 1; break;
    case 'm': power = 2; break;
    case 'g': power = 3; break;
    case 't': power = 4; break;
    default: break;
    }
    if (power > 0 && !(rest.empty() || iequals(rest, "b") || iequals(rest, "i") || iequals(rest, "ib")))
      power = -1;
    if (power < 0) {
      error = "unknown unit '" + std::string{unit} + "' in size " + quoted
              + " (use B, K, M, G or T, optionally followed by B or iB)";
      return std::nullopt;
    }
    for (int i = 0; i < power; ++i) factor *= 1024;
  }
  auto bytes = value * factor;
  if (bytes >= 18446744073709551615.0L) {
    error = "size " + quoted + " is too large";
    return std::nullopt;
  }
  return static_cast<uint64_t>(bytes + 0.5L);
}

namespace {

struct signal_entry {
  const char* name; // without "SIG"
  int number;
};

const signal_entry signal_table[] = {
  {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
  {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},
  {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
  {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT},
  {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
  {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
  {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
  {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

} // namespace

std::optional<int> parse_signal(std::string_view text) {
  auto s = trim(text);
  if (s.empty()) return std::nullopt;
  if (is_digit(s.front())) {
    int n = 0;
    for (char c : s) {
      if (!is_digit(c) || n > 1000) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    for (const auto& e : signal_table)
      if (e.number == n) return n;
    return std::nullopt;
  }
  if (s.size() > 3 && iequals(s.substr(0, 3), "SIG")) s.remove_prefix(3);
  for (const auto& e : signal_table)
    if (iequals(s, e.name)) return e.number;
  return std::nullopt;
}

std::string signal_name(int sig) {
  for (const auto& e : signal_table)
    if (e.number == sig) return std::string{"SIG"} + e.name;
  return "SIG" + std::to_string(sig);
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(uint64_t bytes) {
  const char* units[] = {"T", "G", "M", "K"};
  uint64_t factor = 1ull << 40;
  for (auto u : units) {
    if (bytes >= factor && bytes % factor == 0) return std::to_string(bytes / factor) + u;
    factor >>= 10;
  }
  return std::to_string(bytes) + "B";
}

} // namespace arbor::config
