#include "logs/rotating_file.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::logs {

namespace {

std::string errno_text(const char* what, const std::string& path, int err) {
  if (err == ELOOP) // O_NOFOLLOW met a symlink: say so, not "too many levels"
    return std::string{what} + " " + path + ": it is a symlink; arbor never writes through one";
  return std::string{what} + " " + path + ": " + std::strerror(err);
}

/// Our files never follow a symlink planted in the log dir: writing, creating
/// or truncating through one would reach a file someone else chose.
constexpr int no_follow = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

/// truncate(2) without following a symlink; 0 or -1 with errno.
int truncate_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | no_follow);
  if (fd < 0)
    return -1;
  int rc = ::ftruncate(fd, 0);
  int err = errno;
  ::close(fd);
  errno = err;
  return rc;
}

std::string rotated(const std::string& path, uint64_t k) {
  return path + "." + std::to_string(k);
}

/// Removes `path.from`, `path.from+1`... A gap below `at_least` is skipped;
/// above it the first missing file ends the sweep. Returns "" or the error.
std::string remove_rotated(const std::string& path, uint64_t from, uint64_t at_least) {
  std::string error;
  for (uint64_t k = from;; ++k) {
    std::string f = rotated(path, k);
    if (::unlink(f.c_str()) != 0) {
      if (errno != ENOENT)
        error = errno_text("unlink", f, errno);
      if (k >= at_least)
        break; // missing, or cannot be removed (ENOTDIR, EROFS...): the sweep ends
    }
  }
  return error;
}

} // namespace

std::string make_dirs(const std::string& dir) {
  if (dir.empty())
    return {};
  for (size_t pos = 1;; ++pos) {
    pos = dir.find('/', pos);
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      return errno_text("mkdir", part, errno);
    if (pos == std::string::npos)
      break;
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0)
    return errno_text("stat", dir, errno);
  if (!S_ISDIR(st.st_mode))
    return errno_text("mkdir", dir, ENOTDIR);
  return {};
}

rotating_file::rotating_file(rotating_file&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

rotating_file& rotating_file::operator=(rotating_file&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

void rotating_file::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  size_ = 0;
}

bool rotating_file::open(std::string& error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | no_follow, 0644);
    if (fd_ >= 0)
      break;
    int err = errno;
    auto slash = path_.rfind('/');
    std::string dir = slash == std::string::npos || slash == 0 ? "" : path_.substr(0, slash);
    if (err != ENOENT || attempt == 1 || dir.empty() || !make_dirs(dir).empty()) {
      error = errno_text("open", path_, err); // the dir was removed, and cannot be made again
      return false;
    }
  }
  struct stat st{};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

/// <f> -> <f>.1 -> ... keeping max_files files in all. Leaves the file closed.
void rotating_file::rotate(const rotation& r, std::string& error) {
  close();
  bool moved = false;
  if (r.max_files > 1) {
    std::string e = remove_rotated(path_, r.max_files - 1, r.max_files);
    if (!e.empty())
      error = e;
    for (uint32_t k = r.max_files - 2; k >= 1; --k)
      if (::rename(rotated(path_, k).c_str(), rotated(path_, k + 1).c_str()) != 0
          && errno != ENOENT)
        error = errno_text("rename", rotated(path_, k), errno);
    moved = ::rename(path_.c_str(), rotated(path_, 1).c_str()) == 0 || errno == ENOENT;
    if (!moved)
      error = errno_text("rename", path_, errno);
  }
  // One file only, or it could not be moved: start it over rather than let
  // it grow without bound.
  if (!moved && truncate_file(path_) != 0 && errno != ENOENT)
    error = errno_text("truncate", path_, errno);
}

write_result rotating_file::write(const std::string& out, const rotation& rot,
                                  write_observer* obs) {
  write_result r;
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    if (fd_ < 0 && !open(r.error)) {
      r.dropped += left;
      break;
    }
    size_t len = left;
    if (rot.max_size > 0 && size_ + left > rot.max_size) {
      size_t room = size_ < rot.max_size ? static_cast<size_t>(rot.max_size - size_) : 0;
      const void* last = room > 0 ? ::memrchr(p, '\n', room) : nullptr;
      if (last) {
        len = static_cast<size_t>(static_cast<const char*>(last) - p) + 1; // the lines that fit
      } else if (size_ > 0) {
        rotate(rot, r.error);
        ++r.rotations;
        continue;
      } else {
        // One line longer than max_size: it gets a file of its own.
        const void* nl = ::memchr(p, '\n', left);
        len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - p) + 1 : left;
      }
    }
    if (obs)
      obs->before(fd_, static_cast<size_t>(p - out.data()));
    ssize_t w = ::write(fd_, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      r.error = errno_text("write", path_, w < 0 ? errno : EIO);
      close();
      r.dropped += left;
      break;
    }
    size_ += static_cast<uint64_t>(w);
    r.written += static_cast<uint64_t>(w);
    p += w;
    left -= static_cast<size_t>(w);
    if (obs)
      obs->after(static_cast<size_t>(p - out.data()));
  }
  return r;
}

std::string rotating_file::truncate(uint32_t max_files) {
  std::string error;
  int rc = fd_ >= 0 ? ::ftruncate(fd_, 0) : truncate_file(path_);
  if (rc != 0 && errno != ENOENT)
    error = errno_text("truncate", path_, errno);
  else
    size_ = 0;
  std::string e = remove_rotated(path_, 1, max_files);
  if (!e.empty())
    error = e;
  return error;
}

} // namespace arbor::logs
