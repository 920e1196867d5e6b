#pragma once

// The change log that continues a journal snapshot: `<path>.log` beside
// `<path>` (state.json.log beside state.json). A write is then one append of
// the changed records, not a rewrite of all of them; now and then the store
// compacts: it writes a new snapshot and starts a new log.
//
// Format: JSON lines. The first names the snapshot it continues, by the
// snapshot's random `log_epoch` (never 0):
//   {"epoch":8234923749,"journal_log":1}
// then one change per line, each a whole new value, never a delta:
//   {"op":"put", <every field of the instance record>}
//   {"op":"erase","app":"web","index":2}
//   {"op":"erase_app","app":"web"}         (its records and its scale entry)
//   {"op":"scale","app":"web","n":3}
//   {"op":"meta","daemon_pid":123,"config":"/etc/arbor.toml"}
// One write (journal_store's writer) appends a burst: the erase_app lines
// first, then meta and scale, then one line per (app, index) that changed
// (a put with its latest value, or an erase), each key at most once.
//
// Crash safety: what a reader (read_journal) sees at every point.
// Append (a single write() of the burst, O_APPEND, one writer thread):
//  - before it: snapshot + the complete lines so far: the state of the
//    previous write.
//  - cut short (SIGKILL in the middle of the write, or a short write): the
//    lines so far, some complete lines of the burst, maybe a torn last line
//    without '\n', which is ignored. Every line sets absolute values, the
//    erase_app lines come first and no key appears twice in a burst, so each
//    record read is one it had in memory between the two writes (before,
//    after, or absent in between: an app erased and put again), never a mix
//    of two values. The store never appends behind a failed or short write:
//    its next write is a compaction, so a torn line is only ever the last.
//  - after it: the state of this write.
// Compaction (from epoch E to a fresh random E'):
//  1. the new snapshot, with log_epoch E', goes to a temporary file: the
//     reader still sees snapshot E + log E.
//  2. rename() over the snapshot (atomic): snapshot E' (the whole state,
//     everything in log E included) + log E, which is ignored: its header
//     says E, not E'. Nothing logged before is lost, nothing is replayed
//     twice onto a newer snapshot.
//  3. a new log holding only the header E' goes to a temporary file, then
//     rename()d over the log: before, as in 2; after, snapshot E' + an empty
//     log E'.
//  4. later appends go to the new log (the descriptor opened in 3).
// A crash at any point leaves a reader a state that some write produced,
// never older than the last write that completed. A new daemon compacts
// before it appends anything, so a torn tail left by its predecessor is
// replaced, never continued. A clean stop removes the snapshot first: a log
// without its snapshot is never read.
// Temporary files left by a crash (`<path>.tmp.*`) are never read.

#include <cstdint>
#include <string>
#include <string_view>

#include "journal/journal.hpp"

namespace arbor::journal {

/// "<path>.log": the log beside the snapshot at `path`.
std::string log_path(const std::string& path);

/// One change, as the store logs it.
struct journal_change {
  enum class op : uint8_t { put, erase, erase_app, scale, meta };
  op what = op::put;
  instance_record record;  ///< put: the record; erase: app + index; erase_app, scale: app
  uint32_t n = 0;          ///< scale: instances wanted
  int32_t daemon_pid = 0;  ///< meta
  std::string config;      ///< meta
};

/// The log's first line for snapshot epoch `epoch` ('\n' at the end).
std::string encode_log_header(uint64_t epoch);

/// Appends `c` to `out` as one line ('\n' at the end). Never throws but
/// bad_alloc; invalid UTF-8 in a string is replaced, as in encode().
void encode_change(const journal_change& c, std::string& out);

/// Applies `c` to `j` (what replay_log does per line; the instances are
/// looked up linearly: for tests and single changes).
void apply_change(journal& j, const journal_change& c);

struct replay_result {
  bool matched = false; ///< the header names `epoch`: the lines were read
  size_t applied = 0;   ///< complete lines applied
  bool torn = false;    ///< a last line without '\n' was ignored
};

/// Replays log `text` onto `j`, the snapshot of epoch `epoch`: if the header
/// names another epoch (or is not there), `j` is left alone. Complete lines
/// are applied in order; a last line without '\n' is ignored. A complete
/// line that is not a change stops the replay: the lines before it stay
/// applied and `err` says "<line>: <why> (it and the N byte(s) after it are
/// ignored)". `j.instances` comes out sorted by (app, index) when matched.
/// Never throws but bad_alloc.
replay_result replay_log(std::string_view text, uint64_t epoch, journal& j, std::string& err);

} // namespace arbor::journal
