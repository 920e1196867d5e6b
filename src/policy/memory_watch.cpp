#include "policy/memory_watch.hpp"

namespace arbor {

bool memory_watch::add(uint64_t rss_bytes) {
  if (rss_bytes <= limit_) {
    over_ = 0;
    return false;
  }
  if (++over_ < consecutive_) return false;
  over_ = 0;
  return true;
}

} // namespace arbor
