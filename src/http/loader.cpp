#include "http/loader.hpp"

#include <atomic>
#include <mutex>

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

void load(loaded& s) {
  std::string tried;
  auto m = os::open_first_module(os::module_candidates("libarbor-http.so", "ARBOR_HTTP_MODULE"),
                                  "arbor_http_module", module_abi, tried);
  if (m.table) s.api = static_cast<const module_api*>(m.table);
  else s.error = "cannot load the HTTP module libarbor-http.so (" + tried + ")";
}

} // namespace

const module_api* load_module_from(const std::string& path, std::string& err) {
  // Never dlclose()d: its threads and callbacks live as long as we do.
  return static_cast<const module_api*>(
    os::open_module(path, "arbor_http_module", module_abi, err).table);
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
