#pragma once

// The log pump's second destination, for `arbor run` in a container: every
// line written to an app's file ("[date ]app#i | text") is also written to
// this process's stdout (stdout lines) or stderr (stderr lines), as
// `docker compose` attaches. Used by the pump thread only.
//
// Writes block: a reader slower than the apps holds the pump back, and the
// apps then block on their own pipes (the back-pressure a terminal or a
// container runtime gives any program). A descriptor that fails (EPIPE: the
// reader left) is dropped for good; the files still get every line.

#include "logs/log_pump.hpp"

#include <string>
#include <string_view>

namespace arbor::logs::detail {

class echo_sink {
public:
  /// -1 turns a stream off. `color`: each app's "app#i |" prefix in a colour
  /// of its own (for a terminal).
  void set(int out_fd, int err_fd, bool color);
  bool on() const { return fd_[0] >= 0 || fd_[1] >= 0; }

  /// Writes `lines` (whole lines, as written to the file) of `app`.
  void write(stream kind, const std::string& app, const std::string& lines);

private:
  int fd_[2] = {-1, -1};
  bool color_ = false;
  std::string painted_;
};

/// `lines` with each line's prefix (up to and including its first " | ")
/// wrapped in the ANSI colour `sgr` (e.g. "36"); `out` is replaced.
void paint_prefixes(std::string_view lines, std::string_view sgr, std::string& out);

/// The colour of `app`'s prefix: one of a fixed palette, by its name, so an
/// app keeps its colour across runs.
std::string_view color_of(const std::string& app);

} // namespace arbor::logs::detail
