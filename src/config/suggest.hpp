#pragma once

// "did you mean ...?" for unknown keys and names.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbor::config::detail {

/// Levenshtein distance (insert, delete, substitute; adjacent swap counts 1).
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be a plausible
/// typo (distance ≤ max(1, len/3), at most 3). Ties go to the first candidate.
std::optional<std::string> suggest(std::string_view word,
                                   const std::vector<std::string_view>& candidates);

/// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

} // namespace arbor::config::detail
