#pragma once

// Splits a command line into argv the way a POSIX shell would quote it, but
// without any expansion (no globbing, variables, substitutions).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbor::config::detail {

struct split_result {
  std::vector<std::string> words;
  /// Offset of the first thing only a shell would act on: an unquoted
  /// operator (| & ; < >), or a `$name`, `${`, `$(` or backquote outside single
  /// quotes (we never expand). npos if none.
  size_t shell_syntax_at = std::string_view::npos;
  std::string shell_syntax; ///< that text, e.g. "&&", "$PORT", "`"
};

/// Rules: whitespace separates words; '...' is literal; inside "..." a
/// backslash escapes only " \ $ ` and newline; outside quotes a backslash
/// escapes any character (backslash-newline is removed). An unterminated
/// quote or a trailing backslash is an error (nullopt, `error` set).
std::optional<split_result> shell_split(std::string_view text, std::string& error);

/// Quotes one word so that shell_split gives it back unchanged.
std::string shell_quote(std::string_view word);

/// Words joined by spaces, each quoted only if needed.
std::string shell_join(const std::vector<std::string>& words);

} // namespace arbor::config::detail
