#pragma once

// The file side of the log pump: one app's two live files (stdout, stderr),
// each a rotating_file (written in whole lines, rotated before it would
// exceed max_size), truncated by flush. Internal to src/logs.

#include "logs/log_pump.hpp"
#include "logs/rotating_file.hpp"

#include <cstdint>
#include <mutex>
#include <string>

namespace arbor::logs::detail {

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

/// One app's live files. Thread-safe: every call takes the object's own
/// lock (held across the file I/O, never the pump's bookkeeping lock).
class app_log {
public:
  /// Writes whole lines to the file for `kind` (see rotating_file::write).
  write_result write(const app_snapshot& c, stream kind, const std::string& out,
                     write_observer* obs = nullptr);

  /// Truncates both live files and removes their rotated files. Returns ""
  /// or the last error met.
  std::string truncate(const app_snapshot& c);

private:
  void apply(const app_snapshot& c);

  std::mutex io_;
  rotating_file files_[2];       // indexed by stream
  uint64_t applied_gen_ = 0;     // the config the paths were made from
};

} // namespace arbor::logs::detail
