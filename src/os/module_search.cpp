#include "os/module_search.hpp"

#include <cstdlib>

#include <unistd.h>

namespace arbor::os {

namespace {

std::string exe_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

} // namespace

std::vector<std::string> module_candidates(const module_places& p) {
  std::vector<std::string> out;
  if (const char* env = std::getenv(p.env_var); env != nullptr && *env != '\0') {
    out.emplace_back(env);
    return out; // an explicit choice: nothing else
  }
  auto dir = exe_dir();
  if (!dir.empty()) {
    out.push_back(dir + "/" + p.file);
    out.push_back(dir + "/../lib/arbor/" + p.file);
    if (!p.libdir_name.empty()) out.push_back(dir + "/../" + p.libdir_name + "/arbor/" + p.file);
  }
  if (!p.installed.empty()) out.push_back(p.installed);
  if (!p.built.empty()) out.push_back(p.built);
  return out;
}

} // namespace arbor::os
