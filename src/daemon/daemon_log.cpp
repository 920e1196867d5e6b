#include "daemon_log.hpp"

#include <memory>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "arbor/spdlog.hpp"

namespace arbor::detail {

namespace {

class rotating_stderr_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
  rotating_stderr_sink(std::string path, uint64_t size, uint64_t max_size, uint32_t max_files)
      : path_(std::move(path)), size_(size), max_size_(max_size), max_files_(max_files) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (size_ > 0 && size_ + line.size() > max_size_)
      rotate();
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n <= 0)
        return; // nowhere left to say it
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
  }
  void flush_() override {}

private:
  std::string rotated(uint32_t k) const { return path_ + "." + std::to_string(k); }

  /// daemon.log -> .1 -> ... -> .(max_files-1); 1 and 2 to a fresh file.
  void rotate() {
    if (max_files_ > 1) {
      ::unlink(rotated(max_files_ - 1).c_str());
      for (uint32_t k = max_files_ - 1; k > 1; --k)
        ::rename(rotated(k - 1).c_str(), rotated(k).c_str());
      ::rename(path_.c_str(), rotated(1).c_str());
    }
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return; // keep writing where we were rather than lose the lines
    if (max_files_ <= 1)
      [[maybe_unused]] int rc = ::ftruncate(fd, 0);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    size_ = 0;
  }

  std::string path_;
  uint64_t size_;
  uint64_t max_size_;
  uint32_t max_files_;
};

} // namespace

bool rotate_daemon_log(const std::string& path, uint64_t max_size, uint32_t max_files) {
  struct stat err {}, file {};
  if (::fstat(STDERR_FILENO, &err) != 0 || ::lstat(path.c_str(), &file) != 0
      || !S_ISREG(file.st_mode) || err.st_dev != file.st_dev || err.st_ino != file.st_ino)
    return false;
  auto sink = std::make_shared<rotating_stderr_sink>(path, static_cast<uint64_t>(err.st_size),
                                                     max_size, max_files);
  auto logger = std::make_shared<spdlog::logger>("arbor", std::move(sink));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %-5l %v"); // the default logger's, without colour
  set_logger(std::move(logger));
  return true;
}

} // namespace arbor::detail
