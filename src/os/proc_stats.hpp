#pragma once

// Memory and CPU of whole process trees, read from /proc in one pass, and the
// one sampler thread that does it for every instance on a single timer.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// The sum over a root process and all its live descendants (children,
/// grandchildren, ... as linked by their ppid at the time of the scan).
/// RSS is summed per process, so pages shared between them (libraries,
/// copy-on-write pages after fork) count once per process that maps them.
struct proc_sample {
  pid_t root = 0;
  uint64_t rss_bytes = 0;   ///< resident pages × page size
  uint64_t cpu_ticks = 0;   ///< utime + stime (stat fields 14, 15), clock ticks
  /// cutime + cstime (stat fields 16, 17): CPU of descendants already reaped
  /// by a member of the tree. Adding it to cpu_ticks gives a total that does
  /// not drop when a child exits between two samples.
  uint64_t reaped_ticks = 0;
  uint32_t processes = 0;   ///< 0: the root does not exist (then all is 0)
  /// The root's start time (stat field 22, ticks since boot): tells a reused
  /// pid from the process seen before. 0 when the root does not exist.
  uint64_t root_start = 0;
};

/// Samples the trees below `roots` with ONE scan of /proc: every
/// /proc/<pid>/stat is read once, whatever the number of roots. Returns one
/// proc_sample per root, in the order of `roots` (a root listed twice gets two
/// identical entries). A process that vanishes mid-scan is skipped; a root
/// that does not exist, or every root if /proc cannot be read, yields
/// processes 0 and zeros. Never touches /proc when `roots` is empty. Does not
/// throw except std::bad_alloc.
std::vector<proc_sample> sample_trees(const std::vector<pid_t>& roots);

/// The latest measurement of one root.
struct usage {
  uint64_t rss_bytes = 0;
  /// CPU use since the previous sample, 100 = one full core. Empty on the
  /// first sample of a root (or of a new process that reused its pid) and
  /// while the root does not exist.
  std::optional<double> cpu_percent;
  uint32_t processes = 0;                ///< 0: the root does not exist
  std::chrono::steady_clock::time_point at; ///< when this sample was taken
};

/// One thread that samples every root on one timer. Each pass: ask `roots`
/// for the current roots (an empty list ends the pass: /proc is not read and
/// on_sample is not called), sample them with sample_trees, store the result
/// for latest(), then call `on_sample` with one entry per root, in the order
/// the provider gave. The first pass happens one interval after construction
/// (or at the first poke()); then one interval after the start of the
/// previous pass. Idle cost: one wake-up and one provider call per interval.
///
/// `roots` and `on_sample` run on the sampler thread with no sampler lock
/// held (they may call latest() and poke()); keep them short, and never
/// destroy the sampler from them. An exception thrown by either, or
/// std::bad_alloc in a pass, abandons that pass; the thread carries on.
class sampler {
public:
  using roots_fn = std::function<std::vector<pid_t>()>;
  using sample_fn = std::function<void(const std::vector<std::pair<pid_t, usage>>&)>;

  /// Starts the thread. `interval` must be > 0 (a smaller value is taken as
  /// 1 ms). Throws std::system_error if the thread cannot start (startup only).
  explicit sampler(roots_fn roots, std::chrono::milliseconds interval = std::chrono::seconds(2),
                   sample_fn on_sample = {});
  /// Stops the thread promptly (it waits on a condition variable, never in a
  /// sleep); a pass in progress finishes first (milliseconds).
  ~sampler();
  sampler(const sampler&) = delete;
  sampler& operator=(const sampler&) = delete;

  /// The latest sample of `root`; empty if it was not among the roots of the
  /// latest pass (the table holds only those: a root that left the provider's
  /// list is forgotten).
  std::optional<usage> latest(pid_t root) const;

  /// Asks for a pass now instead of at the next tick; the timer restarts from
  /// it. Returns at once; pokes before the pass starts coalesce into one. For
  /// callers that need fresh data, e.g. a status request that finds
  /// latest()->at older than one interval: poke, then answer with what
  /// latest() has, or wait for on_sample. Listeners see poked passes like any
  /// other (a trigger counting "consecutive samples" should mind `at`).
  /// A CPU% over a window shorter than half the interval would be noise: such
  /// a pass repeats the previous cpu_percent and keeps the window open.
  void poke();

  std::chrono::milliseconds interval() const { return interval_; }

private:
  struct history {
    uint64_t ticks = 0;                        ///< cpu + reaped at the window start
    uint64_t start = 0;                        ///< root_start, to detect pid reuse
    std::chrono::steady_clock::time_point since; ///< window start
    usage last;
  };

  void run();
  void pass();

  roots_fn roots_;
  sample_fn on_sample_;
  std::chrono::milliseconds interval_;
  double ticks_per_second_;

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  std::unordered_map<pid_t, history> table_; ///< guarded by mtx_
  std::thread thread_;                        ///< last: starts after the rest
};

namespace detail {

/// The fields of one /proc/<pid>/stat line that sample_trees uses.
struct stat_fields {
  pid_t pid = 0;
  pid_t ppid = 0;
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  uint64_t start = 0;
  uint64_t rss_pages = 0;
};

/// Parses a stat line. comm (field 2) may hold spaces and ')': fields are
/// read from after the LAST ')'. Fields after rss (24) may be cut off.
/// Returns false on a malformed line.
bool parse_stat(std::string_view line, stat_fields& out);

} // namespace detail

} // namespace arbor::os
