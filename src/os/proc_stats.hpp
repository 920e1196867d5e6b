#pragma once

// Memory and CPU of whole process trees, read from /proc by walking each
// root's descendants, and the sampler that keeps them: one thread for the
// roots that need a periodic watch, and fresh samples on demand.

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
/// grandchildren, ... whose parent link holds at the time of the walk).
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
  /// The root is stopped by a signal (SIGSTOP, SIGTSTP) or a tracer: state
  /// 'T' or 't' in its stat. It runs nothing until SIGCONT.
  bool root_stopped = false;
};

/// Samples the trees below `roots`: each root's /proc/<pid>/stat, then its
/// descendants found through /proc/<pid>/task/<tid>/children, recursively
/// (a child counts only if its stat still names that parent). Nothing else
/// in /proc is read, so the cost grows with the size of the trees, not with
/// the number of processes on the machine. (A kernel without
/// CONFIG_PROC_CHILDREN has no such files: then one scan of every
/// /proc/<pid>/stat, linked by ppid, serves all roots.) Returns one
/// proc_sample per root, in the order of `roots` (a root listed twice gets two
/// identical entries). A process that vanishes mid-walk is skipped; a root
/// that does not exist yields processes 0 and zeros. Never touches /proc when
/// `roots` is empty. Does not throw except std::bad_alloc.
std::vector<proc_sample> sample_trees(const std::vector<pid_t>& roots);

/// How an instance's status reason starts while its process is stopped by
/// a signal (the CLI shows such a reason whatever the state).
inline constexpr const char* stopped_by_signal_reason = "stopped by a signal";

/// The latest measurement of one root.
struct usage {
  uint64_t rss_bytes = 0;
  /// CPU use, 100 = one full core: over the window since the previous sample
  /// of this root that gave a CPU% of its own; on the first sample of a
  /// process (a new root, or a new process that reused its pid), its average
  /// since it started. A window shorter than half the sampler's interval is
  /// too short to tell (ticks are 10 ms): such a sample repeats the previous
  /// value and keeps the window open. Empty while the root does not exist and
  /// on the first sample of a process younger than half an interval.
  std::optional<double> cpu_percent;
  uint32_t processes = 0;                ///< 0: the root does not exist
  std::chrono::steady_clock::time_point at; ///< when this sample was taken
  bool stopped = false;                  ///< the root is stopped by a signal (root_stopped)
};

/// Memory and CPU of process trees, sampled two ways that share one table
/// (and so one CPU window per root):
/// - periodically, on its own thread, for the roots that need watching (e.g.
///   instances of apps with max_memory): each pass asks `periodic` for the
///   roots, samples them, stores the result for latest() and calls
///   `on_sample` with one entry per root, in the order the provider gave.
///   The first pass happens one interval after construction (or at the first
///   poke()); then one interval after the start of the previous pass. A pass
///   whose provider returns no roots reads nothing, calls nobody, and puts
///   the thread to sleep until poke(): with nothing to watch it does not wake.
/// - on demand, on the caller's thread: sample_now() for a status request.
///
/// `periodic`, `known` and `on_sample` run with no sampler lock held (they may
/// call latest() and poke()); keep them short, and never destroy the sampler
/// from them. An exception thrown by the periodic provider or the listener,
/// or std::bad_alloc in a pass, abandons that pass; the thread carries on.
class sampler {
public:
  using roots_fn = std::function<std::vector<pid_t>()>;
  using sample_fn = std::function<void(const std::vector<std::pair<pid_t, usage>>&)>;

  /// Starts the thread. `interval` must be > 0 (a smaller value is taken as
  /// 1 ms). `known` lists every root sample_now() may be asked about (e.g.
  /// every watched pid): latest() forgets a root once neither provider lists
  /// it; without `known`, only the periodic roots of the latest pass are kept
  /// past it. Throws std::system_error if the thread cannot start (startup
  /// only).
  explicit sampler(roots_fn periodic, std::chrono::milliseconds interval = std::chrono::seconds(2),
                   sample_fn on_sample = {}, roots_fn known = {});
  /// Stops the thread promptly (it waits on a condition variable, never in a
  /// sleep); a pass in progress finishes first (milliseconds).
  ~sampler();
  sampler(const sampler&) = delete;
  sampler& operator=(const sampler&) = delete;

  /// The latest sample of `root`, periodic or on demand; empty if there is
  /// none (never sampled, or forgotten: see the constructor).
  std::optional<usage> latest(pid_t root) const;

  /// Fresh numbers for a status request: latest(root) if it is at most
  /// `max_age` old, else a new sample of root's tree taken now, on the
  /// calling thread (a few /proc reads per process of the tree; no wait for
  /// the sampler thread), stored for latest(). on_sample is not called.
  /// Empty only on std::bad_alloc; a root that does not exist gives
  /// processes 0.
  std::optional<usage> sample_now(pid_t root, std::chrono::milliseconds max_age);

  /// Asks for a periodic pass now instead of at the next tick (and wakes a
  /// sleeping thread: call it when the periodic provider gets its first
  /// root); the timer restarts from it. Returns at once; pokes before the pass
  /// starts coalesce into one. Listeners see poked passes like any other (a
  /// trigger counting "consecutive samples" should mind `at`).
  void poke();

  /// Periodic passes that sampled at least one root (for tests and stats).
  uint64_t passes() const;

  std::chrono::milliseconds interval() const { return interval_; }

private:
  struct history {
    uint64_t ticks = 0;                        ///< cpu + reaped at the window start
    uint64_t start = 0;                        ///< root_start, to detect pid reuse
    std::chrono::steady_clock::time_point since; ///< window start
    usage last;
  };

  void run();
  /// One periodic pass; false if the provider had no roots.
  bool pass();
  /// Folds `s`, taken at `now`, into table_ (mtx_ held); returns its usage.
  usage record_locked(const proc_sample& s, std::chrono::steady_clock::time_point now,
                      double boot_seconds);
  /// Drops the roots neither `known` nor the latest pass lists (mtx_ not held).
  void prune();

  roots_fn periodic_;
  roots_fn known_;
  sample_fn on_sample_;
  std::chrono::milliseconds interval_;
  double ticks_per_second_;

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  uint64_t passes_ = 0;                       ///< guarded by mtx_
  size_t prune_at_ = 64;                      ///< table size that triggers a prune
  std::vector<pid_t> last_periodic_;          ///< roots of the latest pass (sorted)
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
  uint32_t threads = 0;   ///< field 20; 0 if unknown
  char state = 0;         ///< field 3: 'R', 'S', 'T', 'Z', ...
};

/// Parses a stat line. comm (field 2) may hold spaces and ')': fields are
/// read from after the LAST ')'. Fields after rss (24) may be cut off.
/// Returns false on a malformed line.
bool parse_stat(std::string_view line, stat_fields& out);

/// Test hook: /proc/<pid>/stat files read by sample_trees on this thread.
uint64_t stat_reads();

/// Test hook: true = sample_trees scans all of /proc as on a kernel without
/// the children files (process-wide; default false).
void force_full_scan(bool on);


} // namespace detail

} // namespace arbor::os
