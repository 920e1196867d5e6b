#pragma once

// Temp dirs, file reading and bounded waits for the log tests.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace arbor::logs::test {

/// A fresh directory under $TMPDIR (or at `prefix` + a random suffix),
/// removed with everything in it.
struct temp_dir {
  std::string path;
  temp_dir() : temp_dir(tmp_base() + "/arbor-logs") {}
  explicit temp_dir(const std::string& prefix) {
    std::string tmpl = prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()))
      path = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  static std::string tmp_base() {
    const char* base = std::getenv("TMPDIR");
    return base && *base ? base : "/tmp";
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path.empty())
      std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string slurp(const std::string& file) {
  std::ifstream in{file, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::vector<std::string> lines_of(const std::string& file) {
  std::vector<std::string> lines;
  std::istringstream in{slurp(file)};
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// A pipe (close-on-exec), both ends closed at the end of the scope.
struct pipe_pair {
  int r = -1, w = -1;
  pipe_pair() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
    r = p[0];
    w = p[1];
  }
  pipe_pair(const pipe_pair&) = delete;
  pipe_pair& operator=(const pipe_pair&) = delete;
  ~pipe_pair() {
    close_r();
    close_w();
  }
  void close_r() {
    if (r >= 0)
      ::close(r);
    r = -1;
  }
  void close_w() {
    if (w >= 0)
      ::close(w);
    w = -1;
  }
};

/// Polls `pred` every 2 ms until it holds or `timeout` passes (tests only:
/// the code under test never polls). Returns the last result.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

/// Writes all of `s` to fd (a blocking pipe write end).
inline bool put(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w <= 0)
      return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

} // namespace arbor::logs::test
