#pragma once

// The state journal: what a restarted daemon needs to re-adopt the app
// instances that outlived its predecessor. Plain data, JSON on disk: a
// snapshot written atomically (a reader sees the old file or the new one,
// never a mix), plus a change log appended next to it (journal_log.hpp) so a
// change costs one line, not a rewrite of every record.
//
// A pid alone does not name a process: pids are reused. A record keeps the
// process's start time (field 22 of /proc/<pid>/stat, clock ticks since boot)
// and same_process() checks both before anything is adopted or signalled.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace arbor::journal {

/// One app instance as the daemon last saw it.
struct instance_record {
  std::string app;                 ///< "web.api"
  uint32_t index = 0;              ///< instance number: "web.api#1" has 1
  int32_t pid = 0;                 ///< 0: not running
  uint64_t start_time = 0;         ///< /proc/<pid>/stat field 22 (clock ticks since boot)
  int64_t started_unix_ms = 0;     ///< wall clock of the (re)start, for display
  uint32_t restarts = 0;
  std::string state;               ///< "running", "ready", "backoff"... as the daemon names it
  bool want_up = true;
  bool ready = false;
  std::string last_exit;           ///< e.g. "exited 1", "killed by SIGSEGV"; "" if none yet
  /// The spawn generation of `pid` (os/identity.hpp), or, before the
  /// instance's first spawn, one taken when its actor began: a newer run of
  /// the same instance always writes a larger one (journal_store keeps the
  /// newest record). 0 in journals written before generations.
  uint64_t generation = 0;

  bool operator==(const instance_record& o) const;
  bool operator!=(const instance_record& o) const { return !(*this == o); }
};

struct journal {
  int version = 1;                           ///< format version; read_journal accepts <= 1
  int32_t daemon_pid = 0;                    ///< the daemon that wrote it
  std::string config;                        ///< the config file the daemon ran
  std::map<std::string, uint32_t> scale;     ///< app -> instances wanted (after `arbor scale`)
  std::vector<instance_record> instances;    ///< sorted by (app, index) when written by journal_store

  bool operator==(const journal& o) const;
  bool operator!=(const journal& o) const { return !(*this == o); }
};

/// The journal as JSON text (one line, '\n' at the end). `log_epoch` != 0
/// names the change log that continues this snapshot (see journal_log.hpp);
/// 0 (the default) writes no such field: the snapshot stands alone.
std::string encode(const journal& j, uint64_t log_epoch = 0);
/// encode() into `text`; false with `err` set if it throws (bad_alloc).
bool encode_to(const journal& j, uint64_t log_epoch, std::string& text, std::string& err);

/// Parses JSON text. Never throws: on malformed text, a wrong type, a missing
/// required field or a version > 1 returns nullopt with `err` saying why
/// (e.g. "journal: instances[2].pid: type must be number, but is string").
/// `log_epoch`, if given, receives the snapshot's log epoch (0: none).
std::optional<journal> decode(std::string_view text, std::string& err,
                              uint64_t* log_epoch = nullptr);

/// Writes `j` to `path` atomically: a new file `<path>.tmp.<pid>.<n>` in the
/// same directory (mode 0600), all of it written, then rename()d over `path`.
/// With `sync`, the file is fdatasync()ed before the rename and the directory
/// fsync()ed after it (survives power loss; costs milliseconds). Returns
/// false with `err` set ("write /h/state.json.tmp.12.3: No space left on
/// device"); the temporary file is removed then and `path` is unchanged.
/// `log_epoch` as for encode(). Never throws.
bool write_atomic(const std::string& path, const journal& j, std::string& err, bool sync = false,
                  uint64_t log_epoch = 0);

/// Reads the journal at `path`: the snapshot, then, if it names a log epoch,
/// the complete lines of `<path>.log` whose header carries that epoch
/// (replay_log). A missing snapshot is no error: nullopt with `err` empty
/// (a log without its snapshot is ignored). An unreadable or corrupt
/// snapshot: nullopt with `err` set. A log of another epoch (left by a
/// compaction cut short) is ignored; a torn last line (a writer killed
/// mid-append) is ignored silently; a corrupt complete line stops the replay
/// there: the journal up to it is returned AND `err` says where
/// ("/h/state.json.log:7: ..."). Instances come sorted by (app, index) when
/// a log was replayed. Never throws.
std::optional<journal> read_journal(const std::string& path, std::string& err);

/// What the journal needs from /proc/<pid>/stat.
struct proc_stat {
  char state = '?';                ///< 'R', 'S', 'D', 'Z', 'T', 'X'...
  uint64_t start_time = 0;         ///< field 22
};

/// Parses the text of a /proc/<pid>/stat file. The command name (field 2)
/// may hold spaces and ')' itself: the fields are counted from the LAST ')'.
/// nullopt if the text is not such a line.
std::optional<proc_stat> parse_proc_stat(std::string_view text);

/// Field 22 of /proc/<pid>/stat, or nullopt if there is no such process (or
/// /proc cannot be read).
std::optional<uint64_t> proc_start_time(pid_t pid);

/// True if `pid` is alive, not a zombie, and started at `start_time`: the
/// process a record names, not a stranger that was given the same pid.
bool same_process(pid_t pid, uint64_t start_time);

} // namespace arbor::journal
