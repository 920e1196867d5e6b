#include "logs/app_log.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::logs::detail {

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

app_log::~app_log() {
  for (auto& f : files_)
    if (f.fd >= 0)
      ::close(f.fd);
}

/// Points the files at the current config; the caller holds io_.
void app_log::apply(const app_snapshot& c) {
  if (applied_gen_ == c.gen)
    return;
  auto p = log_pump::paths(c.dir, c.app);
  std::string fresh[2] = {p.first, p.second};
  for (int i = 0; i < 2; ++i) {
    if (files_[i].path == fresh[i])
      continue;
    if (files_[i].fd >= 0)
      ::close(files_[i].fd);
    files_[i] = file_state{fresh[i], -1, 0};
  }
  applied_gen_ = c.gen;
}

bool app_log::open_file(file_state& f, const app_snapshot& c, std::string& error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    f.fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | no_follow, 0644);
    if (f.fd >= 0)
      break;
    int err = errno;
    if (err != ENOENT || attempt == 1 || !make_dirs(c.dir).empty()) { // the dir was removed?
      error = errno_text("open", f.path, err);
      return false;
    }
  }
  struct stat st{};
  f.size = ::fstat(f.fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

/// <f> -> <f>.1 -> ... keeping max_files files in all. Leaves f closed.
void app_log::rotate(file_state& f, const app_snapshot& c, std::string& error) {
  ::close(f.fd);
  f.fd = -1;
  f.size = 0;
  bool moved = false;
  if (c.max_files > 1) {
    std::string e = remove_rotated(f.path, c.max_files - 1, c.max_files);
    if (!e.empty())
      error = e;
    for (uint32_t k = c.max_files - 2; k >= 1; --k)
      if (::rename(rotated(f.path, k).c_str(), rotated(f.path, k + 1).c_str()) != 0
          && errno != ENOENT)
        error = errno_text("rename", rotated(f.path, k), errno);
    moved = ::rename(f.path.c_str(), rotated(f.path, 1).c_str()) == 0 || errno == ENOENT;
    if (!moved)
      error = errno_text("rename", f.path, errno);
  }
  // One file only, or it could not be moved: start it over rather than let
  // it grow without bound.
  if (!moved && truncate_file(f.path) != 0 && errno != ENOENT)
    error = errno_text("truncate", f.path, errno);
}

write_result app_log::write(const app_snapshot& c, stream kind, const std::string& out,
                           write_observer* obs) {
  write_result r;
  if (out.empty())
    return r;
  std::lock_guard<std::mutex> guard{io_};
  apply(c);
  file_state& f = files_[static_cast<int>(kind)];
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    if (f.fd < 0 && !open_file(f, c, r.error)) {
      r.dropped += left;
      break;
    }
    size_t len = left;
    if (c.max_size > 0 && f.size + left > c.max_size) {
      size_t room = f.size < c.max_size ? static_cast<size_t>(c.max_size - f.size) : 0;
      const void* last = room > 0 ? ::memrchr(p, '\n', room) : nullptr;
      if (last) {
        len = static_cast<size_t>(static_cast<const char*>(last) - p) + 1; // the lines that fit
      } else if (f.size > 0) {
        rotate(f, c, r.error);
        ++r.rotations;
        continue;
      } else {
        // One line longer than max_size: it gets a file of its own.
        const void* nl = ::memchr(p, '\n', left);
        len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - p) + 1 : left;
      }
    }
    if (obs)
      obs->before(f.fd, static_cast<size_t>(p - out.data()));
    ssize_t w = ::write(f.fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      r.error = errno_text("write", f.path, w < 0 ? errno : EIO);
      ::close(f.fd);
      f.fd = -1;
      r.dropped += left;
      break;
    }
    f.size += static_cast<uint64_t>(w);
    r.written += static_cast<uint64_t>(w);
    p += w;
    left -= static_cast<size_t>(w);
    if (obs)
      obs->after(static_cast<size_t>(p - out.data()));
  }
  return r;
}

std::string app_log::truncate(const app_snapshot& c) {
  std::string error;
  std::lock_guard<std::mutex> guard{io_};
  apply(c);
  for (auto& f : files_) {
    int rc = f.fd >= 0 ? ::ftruncate(f.fd, 0) : truncate_file(f.path);
    if (rc != 0 && errno != ENOENT)
      error = errno_text("truncate", f.path, errno);
    else
      f.size = 0;
    std::string e = remove_rotated(f.path, 1, c.max_files);
    if (!e.empty())
      error = e;
  }
  return error;
}

} // namespace arbor::logs::detail
