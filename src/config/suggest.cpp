// Edit distance and typo suggestions.

#include "config/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace arbor::config::detail {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

} // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance over three rows; case-insensitive.
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2])
          && lower(a[i - 2]) == lower(b[j - 1]))
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::optional<std::string> suggest(std::string_view word,
                                   const std::vector<std::string_view>& candidates) {
  size_t limit = std::min<size_t>(3, std::max<size_t>(1, word.size() / 3));
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (auto c : candidates) {
    auto d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string{c};
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (auto s = suggest(word, candidates)) return " (did you mean '" + *s + "'?)";
  return "";
}

} // namespace arbor::config::detail
