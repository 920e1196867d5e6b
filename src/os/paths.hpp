#pragma once

// The few path operations the daemon needs, on POSIX calls. Header-only (the
// CLI shares src/cli/common.cpp). std::filesystem did the same, but its code
// was 64 KB of libstdc++'s pages kept resident by the daemon for the three
// calls it makes at start.

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::os {

/// `mkdir -p path` (mode 0777 less the umask, as std::filesystem). Sets `ec`
/// (and stops) at the first component that cannot be made.
inline void make_dirs(const std::string& path, std::error_code& ec) {
  ec.clear();
  if (path.empty()) return;
  for (size_t at = 1;; ++at) {
    at = path.find('/', at);
    std::string part = path.substr(0, at);
    if (!part.empty() && part.back() != '/' && ::mkdir(part.c_str(), 0777) != 0
        && errno != EEXIST) {
      ec.assign(errno, std::generic_category());
      return;
    }
    if (at == std::string::npos) break;
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) ec.assign(errno, std::generic_category());
  else if (!S_ISDIR(st.st_mode)) ec = std::make_error_code(std::errc::not_a_directory);
}

/// `path` made absolute (against the working directory) and lexically
/// normal: no ".", "..", or repeated slashes. "" if the working directory
/// cannot be read.
inline std::string absolute(const std::string& path) {
  std::string full = path;
  if (path.empty() || path[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return {};
    full = std::string{cwd} + "/" + path;
  }
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= full.size()) {
    auto end = full.find('/', at);
    if (end == std::string::npos) end = full.size();
    std::string p = full.substr(at, end - at);
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!p.empty() && p != ".") {
      parts.push_back(std::move(p));
    }
    at = end + 1;
  }
  std::string out;
  for (auto& p : parts) out += "/" + p;
  if (out.empty()) out = "/";
  if (full.size() > 1 && full.back() == '/' && out != "/") out += '/';
  return out;
}

/// The directory of the running executable ("" if unknown).
inline std::string exe_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

/// `name` next to the running executable; just `name` (looked up on PATH)
/// if the executable's directory is unknown.
inline std::string beside_exe(const std::string& name) {
  auto dir = exe_dir();
  return dir.empty() ? name : dir + "/" + name;
}

} // namespace arbor::os
