#include "logs/echo.hpp"

#include <cerrno>
#include <functional>

#include <poll.h>
#include <unistd.h>

namespace arbor::logs::detail {

namespace {

/// All of `text`, waiting out EINTR and a non-blocking descriptor's EAGAIN.
bool write_fully(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n > 0) {
      text.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (n < 0 && errno != EINTR) {
      return false;
    }
  }
  return true;
}

} // namespace

void echo_sink::set(int out_fd, int err_fd, bool color) {
  fd_[0] = out_fd;
  fd_[1] = err_fd;
  color_ = color;
}

void echo_sink::write(stream kind, const std::string& app, const std::string& lines) {
  int& fd = fd_[kind == stream::out ? 0 : 1];
  if (fd < 0 || lines.empty()) return;
  std::string_view text = lines;
  if (color_) {
    paint_prefixes(lines, color_of(app), painted_);
    text = painted_;
  }
  if (!write_fully(fd, text)) fd = -1;
}

void paint_prefixes(std::string_view lines, std::string_view sgr, std::string& out) {
  out.clear();
  out.reserve(lines.size() + lines.size() / 8);
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end == std::string_view::npos ? lines.size() : end + 1);
    lines.remove_prefix(line.size());
    const size_t bar = line.find(" | ");
    if (bar == std::string_view::npos) {
      out += line;
      continue;
    }
    out += "\x1b[";
    out += sgr;
    out += 'm';
    out += line.substr(0, bar + 2);
    out += "\x1b[0m";
    out += line.substr(bar + 2);
  }
}

std::string_view color_of(const std::string& app) {
  static constexpr std::string_view palette[] = {"36", "33", "32", "35", "34",
                                                 "96", "93", "92", "95", "94"};
  return palette[std::hash<std::string>{}(app) % std::size(palette)];
}

} // namespace arbor::logs::detail
