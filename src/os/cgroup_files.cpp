#include "os/cgroup_files.hpp"

#include <cerrno>
#include <cstring>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/proc_read.hpp"

namespace arbor::os::cg {

std::string make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
  return std::strerror(errno);
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string write(const std::string& file, const std::string& value) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  auto n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  return n == static_cast<ssize_t>(value.size()) ? std::string{} : std::strerror(n < 0 ? err : EIO);
}

std::string write_file(const std::string& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return std::strerror(errno);
  auto n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  return n == static_cast<ssize_t>(text.size()) ? std::string{} : std::strerror(n < 0 ? err : EIO);
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}

std::vector<pid_t> procs(const std::string& dir) {
  std::vector<pid_t> out;
  std::string text;
  if (dir.empty() || !read_small_file((dir + "/cgroup.procs").c_str(), text)) return out;
  std::istringstream in{text};
  for (pid_t p; in >> p;) out.push_back(p);
  return out;
}

std::optional<uint64_t> key_value(const std::string& file, const std::string& key) {
  std::string text;
  if (!read_small_file(file.c_str(), text)) return std::nullopt;
  std::istringstream in{text};
  std::string k;
  for (uint64_t v; in >> k >> v;)
    if (k == key) return v;
  return std::nullopt;
}

} // namespace arbor::os::cg
