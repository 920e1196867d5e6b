#include "os/file_io.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace arbor::os {

std::string errno_text(const char* what, const std::string& path, int e) {
  return std::string{what} + " " + path + ": " + std::strerror(e);
}

bool write_all(int fd, std::string_view s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      if (w == 0)
        errno = EIO;
      return false;
    }
    done += static_cast<size_t>(w);
  }
  return true;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void sync_dir_of(const std::string& path) {
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd); // the rename is done; a failure here only weakens durability
    ::close(dfd);
  }
}

bool read_file(const std::string& path, std::string& out, std::string& err, bool* missing) {
  out.clear();
  if (missing)
    *missing = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && missing)
      *missing = true;
    else
      err = errno_text("open", path, errno);
    return false;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = errno_text("read", path, errno);
      ::close(fd);
      return false;
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

bool write_file_atomic(const std::string& path, std::string_view text, std::string& err,
                       bool sync) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++counter);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = errno_text("create", tmp, errno);
    return false;
  }
  bool ok = write_all(fd, text);
  int e = errno;
  if (ok && sync && ::fdatasync(fd) != 0) {
    ok = false;
    e = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno_text("rename to", path, errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (!ok) {
    err = errno_text("write", tmp, e);
    ::unlink(tmp.c_str());
    return false;
  }
  if (sync)
    sync_dir_of(path);
  return true;
}

} // namespace arbor::os
