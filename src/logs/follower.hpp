#pragma once

// `tail -F` for a set of files, for `arbor logs`: the last N lines of each,
// then every line appended, across rotation (the file renamed to `.1` and a
// new one created: the rest of the old file is read, then the new one from
// its start) and truncation (`arbor flush`: read again from the start).
// Driven by inotify on the files' directories, never by sleep-polling.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace arbor::logs {

class log_follower {
public:
  /// Called with the followed path (also for the rest of a rotated file) and
  /// one line without its newline. A line longer than 64 KiB comes in pieces.
  using line_callback = std::function<void(const std::string& file, const std::string& line)>;

  /// Watches the files' directories at once, so nothing appended after this
  /// returns is missed; following starts at each file's current end. A file
  /// that does not exist yet is followed from its start once created.
  /// Errors (inotify unavailable, a directory missing) are returned by run_for.
  log_follower(std::vector<std::string> files, line_callback on_line);
  ~log_follower();
  log_follower(const log_follower&) = delete;
  log_follower& operator=(const log_follower&) = delete;

  /// Emits the last `n` lines (0: none) of each file, file after file in the
  /// order given, and moves the following position to their end. An
  /// unterminated last line counts as a line.
  void tail(size_t n);

  /// Emits every line appended from then on until `timeout` passes (negative:
  /// forever) or stop() is called. Returns an error if inotify could not be
  /// set up or failed; a file that cannot be read is skipped until it can.
  std::error_code run_for(std::chrono::milliseconds timeout);

  /// Makes a running (or the next) run_for return. Thread-safe and
  /// async-signal-safe (one write to an eventfd).
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::logs
