#pragma once

// The log pane of `arbor top` as pure data: the lines read from an app's
// files (newest last, at most `capacity`), which streams and which instance
// are shown, wrapping, and `/` search. `screen` gives the text to draw.

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace arbor::top {

struct log_line {
  std::string text; ///< as the pump wrote it: "[date ]app#i | text"
  bool err = false;
};

/// Which of an app's streams the pane shows (`o` cycles through them).
enum class log_streams { both, out, err };
const char* to_string(log_streams s);

class log_view {
public:
  static constexpr size_t capacity = 5000;

  /// Empties the pane for another app; `instance` ("web.api#1", or "" for
  /// every instance) keeps only that instance's lines.
  void reset(const std::string& instance);
  void set_instance(const std::string& instance) { instance_ = instance; }
  void add(log_line line);

  void cycle_streams();
  log_streams streams() const { return streams_; }
  void toggle_wrap() { wrap_ = !wrap_; }
  bool wrap() const { return wrap_; }

  /// Finds the newest shown line containing `term` and anchors the pane on
  /// it (following stops); "" ends the search and follows again.
  void search(const std::string& term);
  /// The next older (`older`) or newer match; false if there is none.
  bool next_match(bool older);
  const std::string& term() const { return term_; }
  bool following() const { return anchor_ < 0; }
  void follow();

  /// The last `height` screen lines ending at the anchor (or the newest
  /// line), each at most `width` columns; with wrap a long line takes
  /// several, else it is cut. `err` marks lines from stderr.
  std::vector<log_line> screen(size_t width, size_t height) const;

private:
  bool shown(const log_line& l) const;
  long find_from(long from, int step) const;

  std::deque<log_line> lines_;
  std::string instance_;
  std::string term_;
  long anchor_ = -1; ///< index in lines_ of the line shown last; -1 = follow
  log_streams streams_ = log_streams::both;
  bool wrap_ = false;
};

} // namespace arbor::top
