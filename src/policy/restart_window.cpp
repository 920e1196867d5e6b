#include "policy/restart_window.hpp"

#include <algorithm>
#include <iterator>

namespace arbor {

/// Returns false when more than `intensity` restarts fell within `period`.
bool restart_window::add(time_point now) {
  while (!stamps_.empty() && stamps_.front() <= now - period_) stamps_.pop_front();
  stamps_.push_back(now);
  return stamps_.size() <= intensity_;
}

size_t restart_window::count(time_point now) const {
  auto first = std::upper_bound(stamps_.begin(), stamps_.end(), now - period_);
  auto last = std::upper_bound(first, stamps_.end(), now);
  return static_cast<size_t>(std::distance(first, last));
}

} // namespace arbor
