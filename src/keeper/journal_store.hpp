#pragma once

// The journal kept in memory and written behind: callers change records
// (cheap: a lock, a map update, a wake-up; no I/O on the caller's thread) and
// one writer thread puts the whole journal on disk with write_atomic()
// whenever something changed. A burst of changes made while a write is in
// flight becomes one next write; at most one write is in flight.

#include "keeper/journal.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace arbor::keeper {

struct store_options {
  bool sync = false;                 ///< fdatasync each write (see write_atomic)
  std::chrono::milliseconds delay{0}; ///< wait this long after a change before writing,
                                     ///< to gather more changes into one write (flush() skips it)
};

class journal_store {
public:
  /// Starts the writer thread. Nothing is written until the first change.
  /// Throws std::system_error only if the thread cannot be started.
  explicit journal_store(std::string path, store_options opts = {});
  /// Writes what is pending (like flush()), then stops the thread.
  ~journal_store();
  journal_store(const journal_store&) = delete;
  journal_store& operator=(const journal_store&) = delete;

  /// Replaces everything with `j` (e.g. what read_journal found at startup).
  void load(const journal& j);
  /// Adds or replaces the record of r.app + "#" + r.index.
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

  /// The journal as it is in memory now (instances sorted by app, index).
  journal snapshot() const;
  /// Files written so far (successful writes).
  uint64_t writes() const;
  /// The last write's error; "" if it succeeded (or none was made yet).
  std::string last_error() const;
  const std::string& path() const { return path_; }

private:
  void touch();                       // caller holds mtx_
  journal build() const;              // caller holds mtx_
  void run();

  const std::string path_;
  const store_options opts_;
  mutable std::mutex mtx_;
  std::condition_variable wake_;      // the writer waits for changes here
  std::condition_variable done_;      // flush() waits for writes here
  int version_ = 1;
  int32_t daemon_pid_ = 0;
  std::string config_;
  std::map<std::string, uint32_t> scale_;
  std::map<std::pair<std::string, uint32_t>, instance_record> records_;
  uint64_t gen_ = 0;                  // bumped by every change
  uint64_t written_gen_ = 0;          // the gen of the last write attempted
  uint64_t urgent_gen_ = 0;           // a flush() waits for this gen: skip the delay
  uint64_t writes_ = 0;
  std::string last_error_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace arbor::keeper
