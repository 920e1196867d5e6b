#pragma once

// Validation of `cron_restart` expressions and `cron_tz` zone names for the
// config loader: thin wrappers over parse_cron (config/cron.hpp) and
// time_zone::load (config/timezone.hpp), so what validates also schedules.

#include <optional>
#include <string>
#include <string_view>

namespace arbor::config::detail {

/// nullopt if `expr` is a valid cron expression: 5 fields `min hour dom month
/// dow`, or 6 with leading seconds. Each field is a comma list of `*`, `*/n`,
/// `a`, `a-b` or `a-b/n`; months jan-dec and days sun-sat by name (any case);
/// day of week 0-7 (0 and 7 are Sunday). Otherwise a message naming the bad field.
std::optional<std::string> cron_error(std::string_view expr);

/// nullopt if `name` is a zone under `zoneinfo_dir` ("UTC" always is) that
/// time_zone::load reads. Rejects "", absolute paths, ".." and files that are
/// not TZif data.
std::optional<std::string> timezone_error(std::string_view name,
                                          const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

} // namespace arbor::config::detail
