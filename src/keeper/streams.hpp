#pragma once

// The pipes the keeper holds, and their draining while no daemon is there.
// Single-threaded: only the keeper's loop touches it.
//
// Draining reads each pipe (one read of at most read_chunk per ready event,
// round-robin) and appends complete lines, each as `<date ><prefix><text>`,
// to the stream's file; a line longer than max_line is cut; a partial line is
// written once no data came for `idle_flush`. Files are written through the
// log pump's own rotating_file with the rotation the daemon gave at hold, so
// they rotate exactly as the pump rotates them and nothing is dropped however
// long the outage. They are opened at the first line of an outage and closed
// when it ends: the next daemon's pump reads their size afresh.

#include "logs/lines.hpp"
#include "logs/rotating_file.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace arbor::keeper::detail {

struct stream_meta {
  std::string id;            ///< the daemon's name for it, e.g. "web.api#0.out"
  std::string path;          ///< the log file
  std::string prefix;        ///< "web.api#0 | "
  std::string date_format;   ///< strftime format of a date before the prefix; "": none
  logs::rotation rotate;     ///< as the daemon's pump rotates `path`
};

/// What happened to a stream during the last outage.
struct stream_counts {
  uint64_t drained = 0;      ///< bytes read from the pipe
  uint64_t dropped = 0;      ///< of those, bytes not written (write errors)
};

class stream_table {
public:
  using clock = std::chrono::steady_clock;
  static constexpr size_t max_line = 16 * 1024;
  static constexpr size_t read_chunk = 64 * 1024;

  explicit stream_table(std::chrono::milliseconds idle_flush);
  ~stream_table();
  stream_table(const stream_table&) = delete;
  stream_table& operator=(const stream_table&) = delete;

  /// Takes `fd` (made non-blocking), replacing a stream of the same id.
  /// While draining, the new stream is drained too.
  void hold(stream_meta meta, int fd);
  /// Closes and forgets a stream; false if the id is unknown.
  bool release(const std::string& id);
  /// Closes and forgets every stream.
  void clear();

  /// Adds every pipe to `epfd`, tagged `tag_base | serial`, and zeroes the counts.
  void start_draining(int epfd, uint64_t tag_base);
  /// Takes every pipe out of the epoll set, writes partial lines, closes files.
  void stop_draining();
  bool draining() const { return epfd_ >= 0; }

  /// One read of the stream tagged `tag` (unknown tags are ignored). At end of
  /// stream (every writer gone) its partial line is written and it is forgotten.
  void serve(uint64_t tag, clock::time_point now);
  /// Milliseconds until a partial line is due (0: now); -1 if none.
  int next_due_ms(clock::time_point now) const;
  /// Writes the partial lines that are due.
  void flush_due(clock::time_point now);

  size_t size() const { return by_id_.size(); }

  /// The pipe and file of stream `id`; false if unknown.
  bool find(const std::string& id, int& fd, std::string& path) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end())
      return false;
    fd = it->second->fd;
    path = it->second->meta.path;
    return true;
  }

  /// Calls f(meta, fd, counts) for every stream, in id order.
  template <class F>
  void for_each(F&& f) const {
    for (auto& kv : by_id_)
      f(kv.second->meta, kv.second->fd, kv.second->counts);
  }

private:
  struct entry {
    stream_meta meta;
    int fd = -1;
    uint64_t tag = 0;
    stream_counts counts;
    std::string partial;
    clock::time_point last_data{};
  };
  struct file_state {
    logs::rotating_file file;
    std::string error;       ///< the last error noted this outage (noted once)
  };

  void watch(entry& e);
  void forget(entry& e);                       // out of epoll, closed, erased
  void split(entry& e, const char* data, size_t len);
  void emit(entry& e, const std::string& head, const char* tail, size_t tail_len, size_t raw);
  file_state& file(const std::string& path);
  void write_file(file_state& f, entry& e);   // writes and clears out_

  const std::chrono::milliseconds idle_;
  int epfd_ = -1;
  uint64_t tag_base_ = 0;
  uint64_t next_serial_ = 1;
  std::map<std::string, std::unique_ptr<entry>> by_id_;
  std::unordered_map<uint64_t, entry*> by_tag_;
  std::map<std::string, file_state> files_;
  std::unique_ptr<char[]> buf_;
  std::string out_;                            // lines of the stream being served
  uint64_t out_raw_ = 0;                       // the pipe bytes they stand for
  logs::date_stamp dates_;
};

/// One line to the keeper's own log (stderr): "<UTC time> keeper <text>".
void note(const std::string& text);

} // namespace arbor::keeper::detail
