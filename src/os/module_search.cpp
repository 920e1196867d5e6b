#include "os/module_search.hpp"

#include <cstdlib>

#include "os/paths.hpp"

namespace arbor::os {

std::vector<std::string> module_candidates(const module_places& p) {
  std::vector<std::string> out;
  if (const char* env = std::getenv(p.env_var); env != nullptr && *env != '\0') {
    out.emplace_back(env);
    return out; // an explicit choice: nothing else
  }
  auto dir = os::exe_dir();
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
