#pragma once

// Memory trigger: an instance whose RSS stays above the limit on consecutive
// samples gets a graceful restart. Pure: the caller samples and passes RSS.

#include <cstdint>

namespace arbor {

class memory_watch {
public:
  /// Fires after `consecutive` samples in a row strictly above `limit_bytes`;
  /// 0 is treated as 1.
  explicit memory_watch(uint64_t limit_bytes, uint32_t consecutive = 2)
      : limit_(limit_bytes), consecutive_(consecutive == 0 ? 1 : consecutive) {}

  /// Records a sample. True when it makes `consecutive` samples in a row above
  /// the limit; the run then starts over, so another restart needs
  /// `consecutive` fresh samples above it. A sample at or below the limit
  /// breaks the run.
  bool add(uint64_t rss_bytes);

  /// Forgets the current run (after the instance restarted).
  void reset() { over_ = 0; }

  /// Samples in a row above the limit so far (0 right after firing).
  uint32_t over() const { return over_; }

private:
  uint64_t limit_;
  uint32_t consecutive_;
  uint32_t over_ = 0;
};

} // namespace arbor
