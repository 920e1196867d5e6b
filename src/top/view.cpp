// `arbor top`'s screen on ncurses.

#include "top/view.hpp"

#include <algorithm>
#include <clocale>

#include <curses.h>

namespace arbor::top {

namespace {

enum colour_pair : short { pair_green = 1, pair_yellow, pair_red };

/// The CLI's state colours (src/cli/render_common.cpp): up green, changing
/// yellow, failed red, stopped dim.
attr_t state_attr(const std::string& state, bool color) {
  if (state == "stopped") return A_DIM;
  if (!color) return state == "failed" ? A_BOLD : A_NORMAL;
  if (state == "running" || state == "ready") return COLOR_PAIR(pair_green);
  if (state == "starting" || state == "backoff" || state == "stopping") return COLOR_PAIR(pair_yellow);
  if (state == "failed") return COLOR_PAIR(pair_red) | A_BOLD;
  return A_NORMAL;
}

attr_t event_attr(const std::string& kind, bool color) {
  if (kind == "gave_up" || kind == "child_exited") return color ? COLOR_PAIR(pair_red) : A_NORMAL;
  if (kind == "backoff" || kind == "restarting") return color ? COLOR_PAIR(pair_yellow) : A_NORMAL;
  if (kind == "child_started" || kind == "ready") return color ? COLOR_PAIR(pair_green) : A_NORMAL;
  return A_NORMAL;
}

void put(int y, int x, const std::string& text, int width, attr_t attr = A_NORMAL) {
  if (width <= 0) return;
  attron(attr);
  mvaddnstr(y, x, fit(text, static_cast<size_t>(width)).c_str(), -1);
  attroff(attr);
}

bool active = false;

} // namespace

view::view(bool color) {
  std::setlocale(LC_ALL, ""); // the terminal's encoding: UTF-8 lines drawn whole
  initscr();
  active = true;
  cbreak(); // Ctrl-C still raises SIGINT, which the session turns into a clean exit
  noecho();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  set_escdelay(25);
  curs_set(0);
  color_ = color && has_colors();
  if (color_) {
    start_color();
    use_default_colors();
    init_pair(pair_green, COLOR_GREEN, -1);
    init_pair(pair_yellow, COLOR_YELLOW, -1);
    init_pair(pair_red, COLOR_RED, -1);
  }
}

view::~view() { restore_terminal(); }

void restore_terminal() {
  if (!active) return;
  active = false;
  endwin();
}

int view::read_key() {
  int ch = getch();
  switch (ch) {
  case ERR: return -1;
  case KEY_RESIZE: return key_resize;
  case KEY_UP: return key_up;
  case KEY_DOWN: return key_down;
  case KEY_PPAGE: return key_page_up;
  case KEY_NPAGE: return key_page_down;
  case KEY_HOME: return key_home;
  case KEY_END: return key_end;
  case KEY_LEFT: return key_left;
  case KEY_RIGHT: return key_right;
  case KEY_ENTER: case '\n': case '\r': return key_enter;
  case KEY_BACKSPACE: case 127: case 8: return key_backspace;
  case 27: return key_escape;
  case '\t': return key_tab;
  default: return ch;
  }
}

int view::tree_rows() const {
  // header, heading, separator, status line; the tree gets the larger half.
  int avail = std::max(LINES - 4, 1);
  return avail - avail / 2 + (avail > 10 ? 1 : 0);
}

void view::draw_tree(const frame& f, int top, int rows, int width) {
  const auto& list = f.tree.rows();
  size_t sel = f.tree.selected_index();
  if (sel < tree_offset_) tree_offset_ = sel;
  if (rows > 0 && sel >= tree_offset_ + static_cast<size_t>(rows))
    tree_offset_ = sel - static_cast<size_t>(rows) + 1;
  if (tree_offset_ + static_cast<size_t>(rows) > list.size())
    tree_offset_ = list.size() > static_cast<size_t>(rows) ? list.size() - static_cast<size_t>(rows) : 0;
  for (int y = 0; y < rows; ++y) {
    size_t i = tree_offset_ + static_cast<size_t>(y);
    if (i >= list.size()) break;
    const auto& r = list[i];
    auto text = f.tree.row_text(r, f.now_ns, static_cast<size_t>(width));
    attr_t base = r.kind == row_kind::instance ? A_NORMAL : A_BOLD;
    put(top + y, 0, text, width, base);
    if (r.kind == row_kind::instance && width > static_cast<int>(model::state_column)) {
      attr_t a = state_attr(r.state, color_);
      mvchgat(top + y, static_cast<int>(model::state_column), static_cast<int>(model::state_width),
              a & ~A_COLOR, static_cast<short>(PAIR_NUMBER(a)), nullptr);
    }
    if (i == sel) mvchgat(top + y, 0, width, A_REVERSE, 0, nullptr);
  }
}

void view::draw_lower(const frame& f, int top, int rows, int width) {
  rows = std::max(rows, 0);
  std::string title;
  if (f.keys.lower() == pane::events) {
    title = " events ";
  } else {
    title = " logs: " + (f.log_title.empty() ? std::string{"(none)"} : f.log_title) + " ("
            + to_string(f.logs.streams()) + (f.logs.wrap() ? ", wrap" : "")
            + (f.logs.following() ? ", follow" : ", search '" + f.logs.term() + "'") + ") ";
  }
  mvhline(top, 0, ACS_HLINE, width);
  put(top, 2, title, std::min<int>(width - 2, static_cast<int>(title.size())), A_BOLD);
  if (f.keys.lower() == pane::events) {
    size_t n = std::min(f.events.size(), static_cast<size_t>(rows));
    for (size_t k = 0; k < n; ++k) {
      const auto& e = f.events[f.events.size() - n + k];
      put(top + 1 + static_cast<int>(k), 0, e.text, width, event_attr(e.kind, color_));
    }
    return;
  }
  auto lines = f.logs.screen(static_cast<size_t>(width), static_cast<size_t>(rows));
  for (size_t k = 0; k < lines.size(); ++k) {
    int y = top + 1 + static_cast<int>(k);
    put(y, 0, lines[k].text, width, lines[k].err && color_ ? COLOR_PAIR(pair_red) : A_NORMAL);
    const auto& term = f.logs.term();
    if (!term.empty() && lines[k].text.find(term) != std::string::npos)
      mvchgat(y, 0, width, A_BOLD, lines[k].err && color_ ? pair_red : 0, nullptr);
  }
}

void view::draw(const frame& f) {
  erase();
  int width = COLS;
  std::string header = "arbor top  " + f.tree.summary();
  if (!f.connection.empty()) header += "  [" + f.connection + "]";
  if (f.keys.read_only()) header += "  [read-only]";
  put(0, 0, header, width, A_REVERSE);
  put(1, 0, model::column_heading(static_cast<size_t>(width)), width, A_DIM);
  int rows = tree_rows();
  draw_tree(f, 2, rows, width);
  int lower_top = 2 + rows;
  if (LINES - 1 > lower_top) draw_lower(f, lower_top, LINES - 1 - lower_top - 1, width);
  put(LINES - 1, 0, f.keys.status_line(), width, A_BOLD);
  wnoutrefresh(stdscr);
  doupdate();
}

} // namespace arbor::top
