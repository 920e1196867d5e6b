#pragma once

// How app output becomes log lines: `<date ><prefix>text\n`, a line longer
// than max_line cut into pieces. Shared by the log pump and the keeper.

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arbor::logs {

/// The date before each line: strftime(format) and a space, "" without a
/// format; recomputed at most once a second.
class date_stamp {
public:
  const std::string& text(const std::string& format);

private:
  time_t sec_ = -1;
  std::string format_;
  std::string text_;
};

/// Where a line ends: in the formatted output, and in the raw bytes.
using line_mark = std::pair<size_t, size_t>;

/// Cuts `partial` + `data` into lines appended to `out` as
/// `<date><prefix>text\n` (only the first line starts with `partial`; a line
/// longer than `max_line` is cut into max_line pieces; an unfinished tail only
/// if `all`), until `out` holds `out_limit` bytes. Appends a mark per line.
/// Returns the bytes of `data` used.
size_t cut_lines(std::string_view partial, std::string_view data, bool all,
                 const std::string& date, const std::string& prefix, size_t max_line,
                 size_t out_limit, std::string& out, std::vector<line_mark>& marks);

} // namespace arbor::logs
