#include "policy/backoff.hpp"

namespace arbor {

backoff::millis backoff::delay(uint32_t n) const {
  if (base_.count() <= 0) return millis{0};
  auto d = base_.count();
  for (uint32_t i = 0; i < n; ++i) {
    if (d >= max_.count()) break;
    d *= 2;
  }
  return millis{d < max_.count() ? d : max_.count()};
}

} // namespace arbor
