#pragma once

// Order statistics for the HTTP benchmarks (nearest-rank percentiles).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench_http {

/// The p-th percentile (0 < p ≤ 100) of sorted `v` by nearest rank; 0 if empty.
template <class T>
double percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1]);
}

/// {"n","median","p90","p99","min","max"} of `v` (sorted in place), each
/// value multiplied by `scale` (e.g. 1e-3 for µs → ms) and rounded to 3 decimals.
template <class T>
nlohmann::json summary(std::vector<T>& v, double scale = 1.0) {
  std::sort(v.begin(), v.end());
  auto r = [&](double x) { return std::round(x * scale * 1000.0) / 1000.0; };
  nlohmann::json j;
  j["n"] = v.size();
  j["median"] = r(percentile(v, 50));
  j["p90"] = r(percentile(v, 90));
  j["p99"] = r(percentile(v, 99));
  j["min"] = r(v.empty() ? 0 : static_cast<double>(v.front()));
  j["max"] = r(v.empty() ? 0 : static_cast<double>(v.back()));
  return j;
}

} // namespace bench_http
