// Loads libarbor-http.so once per process, on first use (see http.hpp).

#include "http/http.hpp"

#include <atomic>
#include <mutex>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

#include "os/paths.hpp"

namespace arbor::http {

namespace {

constexpr const char* file_name = "libarbor-http.so";

struct loaded {
  std::once_flag once;
  std::atomic<const module_api*> api{nullptr};
  std::string error;
};

loaded& state() {
  static loaded s;
  return s;
}

/// Next to the executable (the build tree), then the installed places: relative
/// to the executable (a relocated install) and the configured libdir (an
/// embedding program installed elsewhere).
std::vector<std::string> places() {
  std::vector<std::string> out;
  if (auto dir = os::exe_dir(); !dir.empty()) {
    out.push_back(dir + "/" + file_name);
    out.push_back(dir + "/../" ARBOR_INSTALL_LIBDIR_NAME "/arbor/" + file_name);
  }
  out.push_back(std::string{ARBOR_HTTP_MODULE_DIR "/"} + file_name);
  return out;
}

void load(loaded& s) {
  std::string tried;
  for (auto& path : places()) {
    std::string why;
    if (auto* api = load_module_from(path, why)) {
      s.api = api;
      return;
    }
    tried += (tried.empty() ? "" : "; ") + why;
  }
  s.error = std::string{"cannot load the HTTP module "} + file_name + " (" + tried + ")";
}

} // namespace

const module_api* load_module_from(const std::string& path, std::string& err) {
  if (::access(path.c_str(), F_OK) != 0) {
    err = path + ": not found";
    return nullptr;
  }
  // Never dlclose()d once accepted: its threads and callbacks live as long as we do.
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = ::dlerror();
    err = e ? std::string{e} : path + ": cannot load";
    return nullptr;
  }
  using entry_fn = const module_api* (*)();
  auto fn = reinterpret_cast<entry_fn>(::dlsym(h, "arbor_http_module"));
  const module_api* api = fn ? fn() : nullptr;
  if (api != nullptr && api->abi == module_abi) return api;
  err = path
        + (api ? ": built for another arbor (ABI " + std::to_string(api->abi) + ", want "
                   + std::to_string(module_abi) + ")"
               : ": no arbor_http_module symbol");
  ::dlclose(h);
  return nullptr;
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
