#pragma once

// The journal kept in memory and written behind: callers change records
// (cheap: a lock, a map update, a wake-up; no I/O on the caller's thread) and
// one writer thread puts the changes on disk as soon as there are any (write
// through: no gathering delay by default). A burst of changes made while a
// write is in flight becomes one next write; at most one write is in flight.
//
// A write appends the records changed since the last write to the change log
// beside the snapshot, in one write() (journal_log.hpp, which also says what
// a reader sees at every point of a crash). The writer compacts (a new
// snapshot, then a new empty log) on its first write, after a failed write,
// when the log has grown past `compact_factor` times the snapshot, and once
// the journal has been quiet for `quiet_compact` after an append.

#include "journal/journal.hpp"
#include "journal/journal_log.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace arbor::journal {

struct store_options {
  bool sync = false;                 ///< fdatasync each write (see write_atomic)
  std::chrono::milliseconds delay{0}; ///< wait this long after a change before writing,
                                     ///< to gather more changes into one write (flush() skips it)
  uint32_t compact_factor = 4;       ///< compact once the log is this many times the snapshot...
  uint64_t compact_min = 64 * 1024;  ///< ...and at least this many bytes
  std::chrono::milliseconds quiet_compact{2000}; ///< compact after this long without changes
                                     ///< following an append (a clean point); 0: never
  /// Called on the writer thread (no lock held) when a write fails after
  /// writes succeeded (with the error), and when they succeed again (with
  /// ""): a journal that cannot be written is said, once per outage.
  std::function<void(const std::string& error)> on_failure;
};

class journal_store {
public:
  /// Starts the writer thread. Nothing is written until the first change.
  /// `path` is the snapshot; the log is log_path(path). Throws
  /// std::system_error only if the thread cannot be started.
  explicit journal_store(std::string path, store_options opts = {});
  /// Writes what is pending (like flush()), then stops the thread.
  ~journal_store();
  journal_store(const journal_store&) = delete;
  journal_store& operator=(const journal_store&) = delete;

  /// Replaces everything with `j` (e.g. what read_journal found at startup).
  void load(const journal& j);
  /// Adds or replaces the record of r.app + "#" + r.index, unless the
  /// record held is of a newer generation (an older run speaks last).
  void put(instance_record r);
  /// Forgets one instance (no-op if unknown).
  void erase(const std::string& app, uint32_t index);
  /// Forgets every instance of `app` and its scale entry.
  void erase_app(const std::string& app);
  void set_scale(const std::string& app, uint32_t n);
  void set_meta(int32_t daemon_pid, std::string config);

  /// Blocks until every change made before the call is on disk (or its write
  /// failed). Returns false with `err` set if the last write failed. Never
  /// throws.
  bool flush(std::string* err = nullptr);

  /// A clean stop: writes what is pending, then removes the snapshot (first:
  /// a log without it is never read) and the log, and writes nothing any
  /// more (later changes stay in memory). Never throws.
  void remove_files();

  /// The journal as it is in memory now (instances sorted by app, index).
  journal snapshot() const;
  /// Successful writes so far (appends and compactions).
  uint64_t writes() const;
  /// Successful compactions so far (a new snapshot and a new log).
  uint64_t compactions() const;
  /// The last write's error; "" if it succeeded (or none was made yet).
  std::string last_error() const;
  const std::string& path() const { return path_; }

private:
  using key = std::pair<std::string, uint32_t>;

  void touch();                       // caller holds mtx_
  journal build() const;              // caller holds mtx_
  std::vector<journal_change> take_changes(); // caller holds mtx_
  void run();
  // Writer thread only, without the lock:
  bool compact(const journal& j, std::string& err);
  bool append(const std::vector<journal_change>& changes, std::string& err);
  uint64_t new_epoch();

  const std::string path_;
  const store_options opts_;
  mutable std::mutex mtx_;
  std::condition_variable wake_;      // the writer waits for changes here
  std::condition_variable done_;      // flush() waits for writes here
  int version_ = 1;
  int32_t daemon_pid_ = 0;
  std::string config_;
  std::map<std::string, uint32_t> scale_;
  std::map<key, instance_record> records_;
  // What changed since the last write (all of it, if full_).
  std::set<key> dirty_;
  std::set<std::string> dirty_scale_;
  std::vector<std::string> erased_apps_;
  bool dirty_meta_ = false;
  bool full_ = true;                  // the next write is a compaction
  uint64_t gen_ = 0;                  // bumped by every change
  uint64_t written_gen_ = 0;          // the gen of the last write attempted
  uint64_t urgent_gen_ = 0;           // a flush() waits for this gen: skip the delay
  uint64_t writes_ = 0;
  uint64_t compactions_ = 0;
  std::string last_error_;
  bool busy_ = false;                 // the writer is writing (without the lock)
  bool failing_ = false;              // the last write failed (on_failure was told); writer thread only
  bool removed_ = false;              // remove_files() was called: write nothing
  bool stopping_ = false;
  // The writer thread's own.
  int log_fd_ = -1;                   // the log, open for appends; -1: compact first
  uint64_t epoch_ = 0;                // the log_epoch of the snapshot on disk
  uint64_t log_bytes_ = 0;            // appended to the log since its header
  uint64_t snapshot_bytes_ = 0;
  std::mt19937_64 rng_;
  std::thread thread_;
};

} // namespace arbor::journal
