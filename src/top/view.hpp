#pragma once

// `arbor top`'s screen, drawn with ncurses: header, the tree pane, the lower
// pane (events or logs) and the status line. Only the session's thread uses
// it. Drawing goes to the virtual screen (wnoutrefresh) and reaches the
// terminal once per frame (doupdate): only what changed is sent, no flicker.

#include <cstdint>
#include <deque>
#include <string>

#include "top/controller.hpp"
#include "top/log_view.hpp"
#include "top/model.hpp"

namespace arbor::top {

/// One line of the events pane.
struct event_line {
  std::string text;  ///< as `arbor events` prints it, without colour
  std::string kind;  ///< "child_exited", ... (picks its colour)
};

/// Everything one frame shows.
struct frame {
  const model& tree;
  const controller& keys;
  const log_view& logs;
  const std::deque<event_line>& events;
  std::string log_title;  ///< what the log pane follows ("web.api")
  std::string connection; ///< "" when connected, else why not
  int64_t now_ns = 0;     ///< wall clock, for countdowns
};

class view {
public:
  /// Takes the terminal (alternate screen, no echo, keys one by one).
  /// `color`: the CLI's decision (a TTY and no NO_COLOR) and the terminal's.
  explicit view(bool color);
  ~view();
  view(const view&) = delete;
  view& operator=(const view&) = delete;

  /// The next key waiting (the terminal's codes mapped to `key`), or -1.
  int read_key();
  void draw(const frame& f);
  /// Rows of the tree pane at the current size.
  int tree_rows() const;

private:
  void draw_tree(const frame& f, int top, int rows, int width);
  void draw_lower(const frame& f, int top, int rows, int width);

  bool color_ = false;
  size_t tree_offset_ = 0; ///< first tree row shown (keeps the selection visible)
};

/// Leaves curses mode if it is on (async-signal use is not needed: the
/// session calls it from its loop). Safe to call twice.
void restore_terminal();

} // namespace arbor::top
