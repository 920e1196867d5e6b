#pragma once

// Restart intensity (OTP's `intensity`/`period`): a group counts its restart
// events in a sliding window and gives up when there are too many. Pure: the
// caller passes the time; no actor, no clock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace arbor {

class restart_window {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// At most `intensity` restarts within any `period`; intensity 0 refuses
  /// the first restart.
  restart_window(uint32_t intensity, std::chrono::milliseconds period)
      : intensity_(intensity), period_(period) {}

  /// Records a restart at `now` (never earlier than the previous one).
  /// Returns false when more than `intensity` events fall within the window
  /// (now - period, now], counting this one: the group should give up. An
  /// event exactly `period` old has expired. A refused event is recorded too.
  bool add(time_point now);

  /// Events within (now - period, now].
  size_t count(time_point now) const;

  /// Forgets every event (after a manual restart of the group).
  void reset() { stamps_.clear(); }

private:
  uint32_t intensity_;
  std::chrono::milliseconds period_;
  std::deque<time_point> stamps_; // ascending
};

} // namespace arbor
