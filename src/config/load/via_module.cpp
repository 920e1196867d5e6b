#include "config/load/via_module.hpp"

#include <functional>
#include <new>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

#include "config/module_api.hpp"
#include "os/module_search.hpp"

namespace arbor::config {

namespace {

std::vector<std::string> candidates() {
  os::module_places p{"libarbor-config.so", "ARBOR_CONFIG_MODULE", {}, {}, {}};
#ifdef ARBOR_INSTALL_LIBDIR_NAME
  p.libdir_name = ARBOR_INSTALL_LIBDIR_NAME;
#endif
#ifdef ARBOR_CONFIG_MODULE_INSTALLED
  p.installed = ARBOR_CONFIG_MODULE_INSTALLED;
#endif
#ifdef ARBOR_CONFIG_MODULE_BUILT
  p.built = ARBOR_CONFIG_MODULE_BUILT;
#endif
  return os::module_candidates(p);
}

/// dlopen()s the first usable module and runs `use` with its table, then
/// dlclose()s it. False with `why` if none could be loaded.
bool with_module(const std::function<void(const module_api&)>& use, std::string& why) {
  for (auto& path : candidates()) {
    if (::access(path.c_str(), F_OK) != 0) {
      why += (why.empty() ? "" : "; ") + path + ": not found";
      continue;
    }
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = ::dlerror();
      why += (why.empty() ? "" : "; ") + (e ? std::string{e} : path + ": cannot load");
      continue;
    }
    using entry_fn = const module_api* (*)();
    auto entry = reinterpret_cast<entry_fn>(::dlsym(h, "arbor_config_module"));
    const module_api* api = entry ? entry() : nullptr;
    if (api == nullptr || api->abi != module_abi) {
      why += (why.empty() ? "" : "; ") + path
             + (api ? ": built for another arbor (ABI " + std::to_string(api->abi) + ", want "
                        + std::to_string(module_abi) + ")"
                    : ": no arbor_config_module symbol");
      ::dlclose(h);
      continue;
    }
    use(*api);   // never throws (module_api)
    ::dlclose(h); // the result is plain data: it outlives the module
    return true;
  }
  return false;
}

load_result unloadable(const std::string& file, const std::string& why) {
  load_result r;
  r.errors.push_back({{file, 0, 0}, "cannot load the config module libarbor-config.so (" + why + ")"});
  return r;
}

} // namespace

load_result load_file_via_module(const std::string& path) {
  try {
    load_result r;
    std::string why;
    if (with_module([&](const module_api& m) { m.load_file(path, r); }, why)) return r;
    return unloadable(path, why);
  } catch (const std::bad_alloc&) {
    load_result r;
    r.errors.push_back({{path, 0, 0}, "out of memory while loading the config"});
    return r;
  }
}

load_result load_string_via_module(std::string_view text, const std::string& file_name,
                                   const std::string& base_dir) {
  try {
    load_result r;
    std::string why;
    if (with_module([&](const module_api& m) { m.load_string(text, file_name, base_dir, r); },
                    why))
      return r;
    return unloadable(file_name, why);
  } catch (const std::bad_alloc&) {
    load_result r;
    r.errors.push_back({{file_name, 0, 0}, "out of memory while loading the config"});
    return r;
  }
}

} // namespace arbor::config
