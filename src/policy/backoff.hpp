#pragma once

#include <chrono>
#include <cstdint>

namespace arbor {

/// Crash-loop delay: min(base * 2^n, max) for the n-th consecutive short run
/// (n from 0). Pure; saturates instead of overflowing.
class backoff {
public:
  using millis = std::chrono::milliseconds;
  backoff(millis base, millis max) : base_(base), max_(max) {}
  millis delay(uint32_t n) const;

private:
  millis base_;
  millis max_;
};

} // namespace arbor
