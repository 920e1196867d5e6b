#pragma once

// One log file written in whole lines and rotated before it would exceed its
// max_size: <f> -> <f>.1 -> ... keeping max_files files in all. The log pump
// writes app files through it (app_log.hpp) and arbor-keeper writes the same
// files through it while the daemon is away, so a file rotates the same way
// whoever writes it. No CAF; not thread-safe (callers lock).

#include <cstddef>
#include <cstdint>
#include <string>

namespace arbor::logs {

/// When a file rotates: before it would exceed max_size (0: never); files
/// kept per stream, the live one included (min 1: the live file starts over).
struct rotation {
  uint64_t max_size = 0;
  uint32_t max_files = 1;
};

/// What one write did.
struct write_result {
  uint64_t written = 0;
  uint64_t dropped = 0;
  uint64_t rotations = 0;
  std::string error;             ///< the last error met; "" if none
};

/// Told around each write() of rotating_file::write (the pump's write ledger).
struct write_observer {
  virtual ~write_observer() = default;
  /// About to write() `out` from offset `at` to the file `fd`.
  virtual void before(int fd, size_t at) = 0;
  /// `out` up to offset `at` is in the file.
  virtual void after(size_t at) = 0;
};

/// mkdir -p. Returns "" or what went wrong.
std::string make_dirs(const std::string& dir);

class rotating_file {
public:
  rotating_file() = default;
  explicit rotating_file(std::string path) : path_(std::move(path)) {}
  ~rotating_file() { close(); }
  rotating_file(rotating_file&& other) noexcept;
  rotating_file& operator=(rotating_file&& other) noexcept;
  rotating_file(const rotating_file&) = delete;
  rotating_file& operator=(const rotating_file&) = delete;

  const std::string& path() const { return path_; }
  /// Closes the file (it is opened again, and its size read, at the next write).
  void close();

  /// Appends whole lines, rotating before the file would exceed r.max_size
  /// (a line longer than max_size gets a file of its own). Opens the file
  /// when needed (O_APPEND, never through a symlink; its directory is made
  /// if missing). Never throws, never retries in a loop: what cannot be
  /// written is counted as dropped and the file is reopened next time.
  write_result write(const std::string& out, const rotation& r, write_observer* obs = nullptr);

  /// Truncates the live file and removes its rotated files. Returns "" or
  /// the last error met.
  std::string truncate(uint32_t max_files);

private:
  bool open(std::string& error);
  void rotate(const rotation& r, std::string& error);

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

} // namespace arbor::logs
