#pragma once

// The value forms users write: durations ("5s", "500ms", "1m", "1.5h", or a
// bare number in a key-specific unit), sizes ("512M", "1G", "256MB", bytes),
// signal names ("SIGTERM", "TERM", "15").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arbor::config {

/// Parses "250ms", "5s", "1.5s", "2m", "1h", "1d" (optional spaces, case
/// insensitive units). A bare number is taken in `bare_unit`. Rejects negative
/// values, garbage and overflow. Returns nullopt and sets `error` on failure.
std::optional<std::chrono::milliseconds>
parse_duration(std::string_view text, std::chrono::milliseconds bare_unit, std::string& error);

/// Parses "512M", "1G", "256MB", "64k", "1.5G", "1024" (bytes); K/M/G/T are
/// binary (1024-based) with or without a trailing "B"/"iB".
std::optional<uint64_t> parse_size(std::string_view text, std::string& error);

/// "SIGTERM", "TERM", "sigterm", "15" → 15. nullopt for unknown signals.
std::optional<int> parse_signal(std::string_view text);

/// 15 → "SIGTERM"; unknown numbers → "SIG<n>".
std::string signal_name(int sig);

/// The shortest exact form: "10s", "1500ms", "2m", "1h", "0s".
std::string format_duration(std::chrono::milliseconds d);
/// The shortest exact form: "256M", "1G", "100B".
std::string format_size(uint64_t bytes);

} // namespace arbor::config
