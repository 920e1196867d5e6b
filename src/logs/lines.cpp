#include "logs/lines.hpp"

namespace arbor::logs {

const std::string& date_stamp::text(const std::string& format) {
  if (format.empty()) {
    text_.clear();
    format_.clear();
    return text_;
  }
  time_t now = ::time(nullptr);
  if (now == sec_ && format == format_)
    return text_;
  sec_ = now;
  format_ = format;
  struct tm local{};
  ::localtime_r(&now, &local);
  char buf[256];
  size_t n = ::strftime(buf, sizeof buf, format.c_str(), &local);
  text_.assign(buf, n);
  text_ += ' ';
  return text_;
}

size_t cut_lines(std::string_view partial, std::string_view data, bool all,
                 const std::string& date, const std::string& prefix, size_t max_line,
                 size_t out_limit, std::string& out, std::vector<line_mark>& marks) {
  size_t head = partial.size(); // only the first line starts with it
  size_t pos = 0;
  while (pos < data.size() && out.size() < out_limit) {
    size_t nl = data.find('\n', pos);
    size_t len = (nl == std::string_view::npos ? data.size() : nl) - pos;
    size_t used = len + 1;
    if (head + len > max_line)
      used = len = max_line > head ? max_line - head : 0;
    else if (nl == std::string_view::npos && all)
      used = len;
    else if (nl == std::string_view::npos)
      break;
    out += date;
    out += prefix;
    out.append(partial.data(), head);
    out.append(data.data() + pos, len);
    out += '\n';
    head = 0;
    pos += used;
    marks.emplace_back(out.size(), pos);
  }
  return pos;
}

} // namespace arbor::logs
