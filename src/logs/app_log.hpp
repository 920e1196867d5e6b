#pragma once

// The file side of the log pump: one app's two live files (stdout, stderr),
// written in whole lines with rotation before a file would exceed max_size,
// truncated by flush. Internal to src/logs.

#include "logs/log_pump.hpp"

#include <cstdint>
#include <mutex>
#include <string>

namespace arbor::logs::detail {

/// mkdir -p. Returns "" or what went wrong.
std::string make_dirs(const std::string& dir);

/// What the writer (and the pump) need of an app's config: a copy, taken
/// under the pump's bookkeeping lock.
struct app_snapshot {
  std::string dir;
  std::string app;
  uint64_t max_size = 0;
  uint32_t max_files = 1;
  std::string date_format;
  uint64_t gen = 0;              ///< which configure() it was made from
};

/// What one write did, for the app's counters.
struct write_result {
  uint64_t written = 0;
  uint64_t dropped = 0;
  uint64_t rotations = 0;
  std::string error;             ///< the last error met; "" if none
};

/// Told around each write() of app_log::write (the pump's write ledger).
struct write_observer {
  virtual ~write_observer() = default;
  /// About to write() `out` from offset `at` to the file `fd`.
  virtual void before(int fd, size_t at) = 0;
  /// `out` up to offset `at` is in the file.
  virtual void after(size_t at) = 0;
};

/// One app's live files. Thread-safe: every call takes the object's own
/// lock (held across the file I/O, never the pump's bookkeeping lock).
class app_log {
public:
  app_log() = default;
  ~app_log();
  app_log(const app_log&) = delete;
  app_log& operator=(const app_log&) = delete;

  /// Writes whole lines to the file for `kind`, rotating before the file
  /// would exceed max_size. Never throws, never retries in a loop: what
  /// cannot be written is counted as dropped and the file is reopened next time.
  write_result write(const app_snapshot& c, stream kind, const std::string& out,
                     write_observer* obs = nullptr);

  /// Truncates both live files and removes their rotated files. Returns ""
  /// or the last error met.
  std::string truncate(const app_snapshot& c);

private:
  struct file_state {
    std::string path;
    int fd = -1;
    uint64_t size = 0;
  };

  void apply(const app_snapshot& c);
  static bool open_file(file_state& f, const app_snapshot& c, std::string& error);
  static void rotate(file_state& f, const app_snapshot& c, std::string& error);

  std::mutex io_;
  file_state files_[2];          // indexed by stream
  uint64_t applied_gen_ = 0;     // the config the paths were made from
};

} // namespace arbor::logs::detail
