#pragma once

// Runs health checks off the actor threads, and the pure policy that turns
// their results into readiness and restart decisions.

#include "arbor/spec.hpp"
#include "probe/own_port.hpp"
#include "probe/probe.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace arbor::probe {

/// Runs one check of `spec` (target expanded for `port`/`instance`) on the
/// calling thread, with `spec.timeout`. kind::none is ok ("no check").
probe_result run_check(const health_check_spec& spec, uint16_t port, uint32_t instance);

/// A fixed pool of worker threads running checks asynchronously. A hung
/// endpoint occupies one worker until its timeout; the others go on.
class prober {
public:
  using callback = std::function<void(const probe_result&)>;

  /// Starts `workers` threads (at least 1; default 2). At most `max_queued`
  /// checks wait for a worker (default 64); more are rejected. Throws
  /// std::system_error only if a thread cannot be started.
  explicit prober(size_t workers = 2, size_t max_queued = 64);

  /// Stops promptly: checks still queued are dropped without calling their
  /// `done`; checks in flight run to their end. Worst case: the longest
  /// `timeout` among the checks in flight (plus, for http/tcp, a slow DNS
  /// lookup; see check_http for a trickling server).
  ~prober();
  prober(const prober&) = delete;
  prober& operator=(const prober&) = delete;

  /// Queues one check. `done` is called once, on a worker thread, with the
  /// result (keep it short and non-throwing: e.g. one actor message; an
  /// exception it throws is swallowed). When the queue is full, `done` is
  /// called at once on the caller's thread with {false, "prober busy"}.
  /// Returns the check's id (> 0, increasing), also for a rejected one.
  /// With `own`, the check runs as check_own_port (probe/own_port.hpp).
  uint64_t submit(const health_check_spec& spec, uint16_t port, uint32_t instance,
                  callback done, std::optional<own_port_rule> own = std::nullopt);

  /// Checks waiting for a worker (not counting those running).
  size_t queued() const;

private:
  struct job {
    uint64_t id;
    health_check_spec spec;
    uint16_t port;
    uint32_t instance;
    callback done;
    std::optional<own_port_rule> own;
  };
  void run();

  size_t max_queued_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::vector<std::thread> workers_;
};

/// What a probe result means for the instance.
enum class health_event : uint8_t {
  none,          ///< nothing changes
  became_ready,  ///< first pass of this run: the instance is ready
  unhealthy,     ///< `failures` consecutive counted failures: restart it
};

/// Pure policy for one instance's run: readiness, consecutive failures and
/// when to probe next. Time is injected; no clock inside.
///
/// - Until the first pass (startup) probes are tight: 10 ms, doubling after
///   each failure up to 250 ms, so readiness is seen as soon as it is true.
///   Afterwards the delay is `spec.interval`.
/// - Failures inside `start_period` (from `started`) never count. Before the
///   first pass, at most one failure per `interval` counts, the first no
///   sooner than max(start_period, interval) after `started`: the tight
///   startup polling does not shorten the time to an unhealthy verdict (with
///   the defaults, a never-ready instance is declared unhealthy after ~30 s).
///   Once ready, every failure outside start_period counts.
/// - A pass resets the count. record() returns `unhealthy` once, when the
///   count reaches `spec.failures` (0 is taken as 1); later failures return
///   `none` until a pass or reset().
class health_state {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  static constexpr std::chrono::milliseconds startup_first{10};
  static constexpr std::chrono::milliseconds startup_max{250};

  health_state(const health_check_spec& spec, time_point started);

  /// A new run of the instance (after a restart): not ready, no failures.
  void reset(time_point started);

  /// Delay until the next probe should start (after the previous one ended).
  std::chrono::milliseconds next_delay() const;

  /// Accounts one result that ended at `now`.
  health_event record(const probe_result& r, time_point now);

  bool ready() const { return ready_; }
  uint32_t consecutive_failures() const { return failures_; }
  const std::string& last_detail() const { return last_detail_; }

private:
  health_check_spec spec_;
  time_point started_;
  time_point next_count_at_;   // before ready: earliest counted failure
  std::chrono::milliseconds startup_delay_{startup_first};
  bool ready_ = false;
  bool reported_ = false;      // unhealthy already returned for this streak
  uint32_t failures_ = 0;
  std::string last_detail_;
};

} // namespace arbor::probe
