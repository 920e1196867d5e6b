#include "http/loader.hpp"

#include <atomic>
#include <mutex>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

#include "os/module_search.hpp"

namespace arbor::http {

namespace {

struct loaded {
  std::once_flag once;
  std::atomic<const module_api*> api{nullptr};
  std::string error;
};

loaded& state() {
  static loaded s;
  return s;
}

std::vector<std::string> candidates() {
  os::module_places p{"libarbor-http.so", "ARBOR_HTTP_MODULE", {}, {}, {}};
#ifdef ARBOR_INSTALL_LIBDIR_NAME
  p.libdir_name = ARBOR_INSTALL_LIBDIR_NAME;
#endif
#ifdef ARBOR_HTTP_MODULE_INSTALLED
  p.installed = ARBOR_HTTP_MODULE_INSTALLED;
#endif
#ifdef ARBOR_HTTP_MODULE_BUILT
  p.built = ARBOR_HTTP_MODULE_BUILT;
#endif
  return os::module_candidates(p);
}

void load(loaded& s) {
  std::string tried;
  for (auto& path : candidates()) {
    std::string why;
    if (auto* api = load_module_from(path, why)) {
      s.api = api;
      return;
    }
    tried += (tried.empty() ? "" : "; ") + why;
  }
  s.error = "cannot load the HTTP module libarbor-http.so (" + tried + ")";
}

} // namespace

const module_api* load_module_from(const std::string& path, std::string& err) {
  if (::access(path.c_str(), F_OK) != 0) {
    err = path + ": not found";
    return nullptr;
  }
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = ::dlerror();
    err = e ? std::string{e} : path + ": cannot load";
    return nullptr;
  }
  using entry_fn = const module_api* (*)();
  auto entry = reinterpret_cast<entry_fn>(::dlsym(h, "arbor_http_module"));
  const module_api* api = entry ? entry() : nullptr;
  if (api == nullptr || api->abi != module_abi) {
    err = path
          + (api ? ": built for another arbor (ABI " + std::to_string(api->abi) + ", want "
                     + std::to_string(module_abi) + ")"
                 : ": no arbor_http_module symbol");
    ::dlclose(h);
    return nullptr;
  }
  return api; // never dlclose()d: its threads and callbacks live as long as we do
}

const module_api* module(std::string* err) {
  auto& s = state();
  try {
    std::call_once(s.once, [&s] { load(s); });
  } catch (...) {
    if (err) *err = "cannot load the HTTP module: out of memory";
    return nullptr;
  }
  auto* api = s.api.load();
  if (api == nullptr && err) *err = s.error;
  return api;
}

bool module_loaded() {
  return state().api.load() != nullptr;
}

} // namespace arbor::http
