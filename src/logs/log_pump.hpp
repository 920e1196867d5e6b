#pragma once

// The log pump: one thread that reads children's stdout/stderr through pipes
// (epoll, non-blocking) and writes them, line by line with an instance
// prefix, to per-app rotating files. The supervision side never waits on it:
// open_stream() and configure() take only a short bookkeeping lock that the
// pump never holds across a read() or write().
//
// Memory is bounded whatever a child writes: at most 64 KiB is read from a
// stream per epoll round (round-robin, so a flooding app cannot starve the
// others), and a line without a newline is cut into 16 KiB pieces. If the pump
// falls behind (a child writes faster than the disk takes it), the pump does
// not buffer more: the pipe fills and only that child blocks in its own
// write(), which is the back-pressure we want. Other apps' streams, and crash
// recovery, are unaffected.

#include "logs/rotating_file.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace arbor::logs {

/// Where and how one app's output is kept.
struct app_log_config {
  std::string app;               ///< "web.api"
  std::string dir;               ///< created (with parents) if missing
  uint64_t max_size = 10 << 20;  ///< rotate before a file would exceed it; 0: never rotate
  uint32_t max_files = 5;        ///< files kept per stream, the live one included (min 1)
  std::string date_format;       ///< strftime format of a line's date prefix; "": none
};

enum class stream : uint8_t { out, err };

/// Counters of one app (both streams together).
struct app_stats {
  uint64_t bytes_written = 0;  ///< bytes that reached the files, prefixes included
  uint64_t bytes_dropped = 0;  ///< bytes lost to open/write errors (ENOSPC, EACCES, EIO...)
  uint64_t rotations = 0;
  std::string last_error;      ///< e.g. "open /l/web.err.log: Is a directory"; "" if none yet
};

/// A stream's read end was opened (fd >= 0) or forgotten (fd == -1), for a
/// keeper that holds a copy while the daemon is away. `key` names the stream
/// uniquely ("web.api#0.out.<daemon pid>.<n>"); `path` is its live log file.
struct stream_change {
  std::string key;
  int fd = -1;
  std::string path;
  std::string prefix;
  std::string date_format;
  rotation rotate;               ///< how the pump rotates `path`
};

class log_pump {
public:
  /// Largest piece a line is written as; a longer one is cut.
  static constexpr size_t max_line = 16 * 1024;
  /// Most a stream is read per round.
  static constexpr size_t read_chunk = 64 * 1024;

  /// Starts the pump thread. Throws std::system_error if epoll/eventfd cannot
  /// be created (startup only).
  log_pump();
  /// Stops the thread, drains what the pipes hold right now (a partial last
  /// line is written as a line), closes every pipe read end and file.
  ~log_pump();
  log_pump(const log_pump&) = delete;
  log_pump& operator=(const log_pump&) = delete;

  /// Registers `cfg.app`, or updates it: later lines go by the new settings
  /// (a new dir takes effect at the next write). Its files are
  /// `<dir>/<app>.out.log` and `<dir>/<app>.err.log`, rotated to `.1`, `.2`...
  /// Errors (the dir cannot be created) show in stats().last_error and the
  /// app's bytes are counted as dropped until the cause is fixed.
  /// Thread-safe; never waits on file I/O.
  void configure(const app_log_config& cfg);

  /// Makes a pipe for one stream of one instance of a configured app and
  /// returns its write end (O_CLOEXEC): dup2 it onto the child's fd 1 or 2 at
  /// spawn, and keep it open across restarts of that instance so the pump
  /// never sees EOF between runs. When every copy of the write end is closed,
  /// the pump drains the pipe, writes a partial last line as a line and
  /// forgets the stream. Returns -1 with errno set on failure (ENOENT: app not
  /// configured; EMFILE...). Thread-safe; never waits on file I/O.
  int open_stream(const std::string& app, uint32_t instance, stream s);

  /// The write ledger's page (a memfd) and its trash pipe's read end (see
  /// write_ledger.hpp): give both to the keeper, so that it can finish or
  /// undo the pump's last step if this process dies. Owned by the pump.
  std::pair<int, int> ledger_fds() const;

  /// Also writes every line to `out_fd` (stdout lines) and `err_fd` (stderr
  /// lines), as written to the files; -1 for neither. `color`: each app's
  /// prefix in a colour of its own. Set it before any stream opens (see
  /// echo.hpp for what a slow or closed reader does).
  void set_echo(int out_fd, int err_fd, bool color);

  /// Called for every stream opened (on open_stream's caller thread) and
  /// forgotten at EOF (on the pump thread); set it before any stream opens.
  void set_hook(std::function<void(const stream_change&)> hook);

  /// Calls the hook again for every stream being read, with its read end (a
  /// new keeper must hold them all). Holds the bookkeeping lock throughout:
  /// no stream is forgotten meanwhile. Thread-safe.
  void tell_all();

  /// Reads an existing pipe read end (handed back by the keeper after a
  /// daemon restart) as stream `key` of `app`'s instance: like open_stream,
  /// without a write end. Takes ownership of `fd` (closed on failure).
  /// Returns false with errno set (ENOENT: app not configured).
  bool adopt_stream(const std::string& app, uint32_t instance, stream s, int fd,
                    const std::string& key);

  /// Truncates both live files of `app` and removes its rotated files.
  /// Returns false if the app is unknown or a file could not be truncated or
  /// removed (see stats().last_error). Thread-safe; may wait for one write in
  /// progress to that app's files.
  bool flush(const std::string& app);

  /// The app's counters (zeros for an unknown app). Thread-safe.
  app_stats stats(const std::string& app) const;

  /// Number of streams being read (not yet at EOF). Thread-safe.
  size_t streams() const;

  /// The two live files of `app` in `dir`: {out, err}.
  static std::pair<std::string, std::string> paths(const std::string& dir, const std::string& app);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::logs
