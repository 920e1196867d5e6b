// The log pane's lines, filters and search.

#include "top/log_view.hpp"

#include "cli/render.hpp"
#include "top/model.hpp"

namespace arbor::top {

const char* to_string(log_streams s) {
  switch (s) {
  case log_streams::out: return "stdout";
  case log_streams::err: return "stderr";
  case log_streams::both: break;
  }
  return "stdout+stderr";
}

void log_view::reset(const std::string& instance) {
  lines_.clear();
  instance_ = instance;
  anchor_ = -1;
}

void log_view::add(log_line line) {
  lines_.push_back(std::move(line));
  if (lines_.size() <= capacity) return;
  lines_.pop_front();
  if (anchor_ > 0) --anchor_;
}

void log_view::cycle_streams() {
  streams_ = streams_ == log_streams::both  ? log_streams::out
             : streams_ == log_streams::out ? log_streams::err
                                            : log_streams::both;
}

bool log_view::shown(const log_line& l) const {
  if (streams_ == log_streams::out && l.err) return false;
  if (streams_ == log_streams::err && !l.err) return false;
  if (instance_.empty()) return true;
  // The pump's prefix: "[date ]app#i | ".
  auto bar = l.text.find(" | ");
  if (bar == std::string::npos || bar < instance_.size()) return false;
  if (l.text.compare(bar - instance_.size(), instance_.size(), instance_) != 0) return false;
  return bar == instance_.size() || l.text[bar - instance_.size() - 1] == ' ';
}

long log_view::find_from(long from, int step) const {
  for (long i = from; i >= 0 && i < static_cast<long>(lines_.size()); i += step) {
    const auto& l = lines_[static_cast<size_t>(i)];
    if (shown(l) && l.text.find(term_) != std::string::npos) return i;
  }
  return -1;
}

void log_view::search(const std::string& term) {
  term_ = term;
  if (term.empty()) return follow();
  anchor_ = find_from(static_cast<long>(lines_.size()) - 1, -1);
}

bool log_view::next_match(bool older) {
  if (term_.empty()) return false;
  long from = anchor_ < 0 ? static_cast<long>(lines_.size()) - 1 : anchor_ + (older ? -1 : 1);
  long at = find_from(from, older ? -1 : 1);
  if (at < 0) return false;
  anchor_ = at;
  return true;
}

void log_view::follow() {
  term_.clear();
  anchor_ = -1;
}

std::vector<log_line> log_view::screen(size_t width, size_t height) const {
  std::vector<log_line> out; // newest first, reversed at the end
  if (width == 0) return out;
  long last = anchor_ < 0 ? static_cast<long>(lines_.size()) - 1 : anchor_;
  for (long i = last; i >= 0 && out.size() < height; --i) {
    const auto& l = lines_[static_cast<size_t>(i)];
    if (!shown(l)) continue;
    if (!wrap_ || cli::display_width(l.text) <= width) {
      out.push_back({cut(l.text, width), l.err});
      continue;
    }
    // Wrapped: split into pieces of `width` code points, pushed last piece first.
    std::vector<std::string> pieces{""};
    size_t cols = 0;
    for (char c : l.text) {
      bool starts_char = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      if (starts_char && cols == width) {
        pieces.emplace_back();
        cols = 0;
      }
      pieces.back() += c;
      cols += starts_char ? 1 : 0;
    }
    for (auto p = pieces.rbegin(); p != pieces.rend() && out.size() < height; ++p)
      out.push_back({*p, l.err});
  }
  return {out.rbegin(), out.rend()};
}

} // namespace arbor::top
