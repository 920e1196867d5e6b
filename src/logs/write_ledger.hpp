#pragma once

// Exactly once, across the daemon's death: the log pump never takes bytes out
// of an app's pipe before they are in the file, and it says on a page shared
// with arbor-keeper what it is doing, so that the keeper, which holds a copy
// of every pipe, can finish or undo the pump's last step if the daemon is
// SIGKILLed in the middle of it.
//
// One step of the pump, for a stream `key` (the pump is one thread: one page):
//   peek()        tee() the pipe's head into a private scratch pipe and read
//                 that: the bytes stay in the app's pipe.
//   begin_write() phase = writing {key, file dev/ino, file size before}
//   write(file)   the complete lines of what was peeked
//   consume(n)    phase = consuming {key, n, trash fill before}; splice() n
//                 bytes from the app's pipe into the trash pipe (a move: the
//                 bytes are then either still in the app's pipe or in the
//                 trash, never in between); phase = idle; empty the trash.
//
// The keeper, once the daemon's connection ends (ledger_recover):
//   idle       nothing was half done.
//   writing    the lines are still in the pipe; the file may hold all or part
//              of them: it is cut back to its size before (same dev/ino only),
//              and the keeper's own draining writes them once.
//   consuming  the lines are in the file; the trash's fill tells how much of
//              n was moved: the keeper reads and drops the rest.
// So a daemon's death loses no line and doubles none. Without a keeper (an
// embedded tree) the page is simply not read.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace arbor::logs {

/// The page shared by the pump (writer) and the keeper (reader after the
/// pump's process is gone). Plain data in a memfd mapping.
struct ledger_page {
  static constexpr uint32_t magic_v1 = 0x3152474c; // "LGR1"
  static constexpr size_t max_key = 2048;
  enum : uint32_t { idle = 0, writing = 1, consuming = 2 };

  uint32_t magic;
  std::atomic<uint32_t> phase;
  uint64_t dev;           ///< writing: the file's st_dev
  uint64_t ino;           ///< writing: the file's st_ino
  uint64_t size_before;   ///< writing: its size before this write
  uint64_t take;          ///< consuming: bytes to take out of the pipe
  uint64_t trash_before;  ///< consuming: the trash's fill before
  uint32_t key_len;
  char key[max_key];
};

/// The pump's side. Not thread-safe: the pump thread only.
class write_ledger {
public:
  /// Makes the page and the pipes. Throws std::system_error if it cannot.
  write_ledger();
  ~write_ledger();
  write_ledger(const write_ledger&) = delete;
  write_ledger& operator=(const write_ledger&) = delete;

  /// What to hand to the keeper: the page (a memfd) and the trash's read end.
  int page_fd() const { return page_fd_; }
  int trash_fd() const { return trash_[0]; }

  /// Copies up to `cap` bytes from the head of pipe `fd` into `buf` without
  /// taking them out. Returns the count, 0 at end of stream (empty, no
  /// writer left), -1 with errno (EAGAIN: empty for now).
  ssize_t peek(int fd, char* buf, size_t cap);

  /// About to append to `file_fd` for stream `key`; `already`: bytes of an
  /// unfinished line this step has written to it (a short write) that a cut
  /// must take back too.
  void begin_write(std::string_view key, int file_fd, uint64_t already = 0);

  /// Takes `n` bytes out of the head of pipe `fd` (they are in the file, or
  /// dropped). False with errno if fewer could be taken.
  bool consume(std::string_view key, int fd, size_t n);

private:
  void set_key(std::string_view key);

  int page_fd_ = -1;
  ledger_page* page_ = nullptr;
  int scratch_[2] = {-1, -1};
  int trash_[2] = {-1, -1};
  int null_fd_ = -1;
};

/// What the keeper needs of a held stream: its pipe and its file.
struct ledger_stream {
  int fd = -1;
  std::string path;
};

/// The keeper's side, after the daemon that made `page_fd` is gone: finishes
/// or undoes its last step (see above). `find(key, out)` looks a stream up.
/// Returns what it did, for the keeper's log ("" if nothing); leaves the
/// page idle and the trash empty. Bad input (not a page) does nothing.
std::string ledger_recover(int page_fd, int trash_fd,
                           const std::function<bool(const std::string&, ledger_stream&)>& find);

} // namespace arbor::logs
