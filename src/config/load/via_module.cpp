#include "config/load/via_module.hpp"

#include <functional>
#include <new>

#include <dlfcn.h>

#include "config/module_api.hpp"
#include "os/module_search.hpp"

namespace arbor::config {

namespace {

/// Opens the module, lets `load` fill the result, closes the module (the
/// result is plain data: it outlives it). A module that cannot be opened is
/// a diagnostic at `file` saying where it was looked for.
load_result via_module(const std::string& file,
                       const std::function<void(const module_api&, load_result&)>& load) {
  load_result r;
  try {
    std::string tried;
    auto places = os::module_candidates("libarbor-config.so", "ARBOR_CONFIG_MODULE");
    auto m = os::open_first_module(places, "arbor_config_module", module_abi, tried);
    if (m.table == nullptr) {
      r.errors.push_back(
        {{file, 0, 0}, "cannot load the config module libarbor-config.so (" + tried + ")"});
      return r;
    }
    load(*static_cast<const module_api*>(m.table), r); // never throws (module_api)
    ::dlclose(m.handle);
  } catch (const std::bad_alloc&) {
    r = load_result{};
    r.errors.push_back({{file, 0, 0}, "out of memory while loading the config"});
  }
  return r;
}

} // namespace

load_result load_file_via_module(const std::string& path) {
  return via_module(path, [&](const module_api& m, load_result& r) { m.load_file(path, r); });
}

load_result load_string_via_module(std::string_view text, const std::string& file_name,
                                   const std::string& base_dir) {
  return via_module(file_name, [&](const module_api& m, load_result& r) {
    m.load_string(text, file_name, base_dir, r);
  });
}

} // namespace arbor::config
