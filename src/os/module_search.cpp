#include "os/module_search.hpp"

#include <cstdlib>

#include <dlfcn.h>
#include <unistd.h>

#include "os/paths.hpp"

namespace arbor::os {

std::vector<std::string> module_candidates(const std::string& file, const char* env_var) {
  std::vector<std::string> out;
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') {
    out.emplace_back(env);
    return out; // an explicit choice: nothing else
  }
  auto dir = os::exe_dir();
  if (!dir.empty()) {
    out.push_back(dir + "/" + file);
    out.push_back(dir + "/../lib/arbor/" + file);
#ifdef ARBOR_INSTALL_LIBDIR_NAME
    out.push_back(dir + "/../" ARBOR_INSTALL_LIBDIR_NAME "/arbor/" + file);
#endif
  }
#ifdef ARBOR_MODULE_DIR_INSTALLED
  out.push_back(ARBOR_MODULE_DIR_INSTALLED "/" + file);
#endif
#ifdef ARBOR_MODULE_DIR_BUILT
  out.push_back(ARBOR_MODULE_DIR_BUILT "/" + file);
#endif
  return out;
}

opened_module open_module(const std::string& path, const char* entry, uint32_t abi,
                          std::string& err) {
  if (::access(path.c_str(), F_OK) != 0) {
    err = path + ": not found";
    return {};
  }
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = ::dlerror();
    err = e ? std::string{e} : path + ": cannot load";
    return {};
  }
  using entry_fn = const void* (*)();
  auto fn = reinterpret_cast<entry_fn>(::dlsym(h, entry));
  const void* table = fn ? fn() : nullptr;
  // Every table starts with its ABI (a standard-layout struct's first member).
  uint32_t got = table ? *static_cast<const uint32_t*>(table) : 0;
  if (table == nullptr || got != abi) {
    err = path
          + (table ? ": built for another arbor (ABI " + std::to_string(got) + ", want "
                       + std::to_string(abi) + ")"
                   : ": no " + std::string{entry} + " symbol");
    ::dlclose(h);
    return {};
  }
  return {h, table};
}

opened_module open_first_module(const std::vector<std::string>& paths, const char* entry,
                                uint32_t abi, std::string& tried) {
  for (auto& path : paths) {
    std::string why;
    auto m = open_module(path, entry, abi, why);
    if (m.table) return m;
    tried += (tried.empty() ? "" : "; ") + why;
  }
  return {};
}

} // namespace arbor::os
