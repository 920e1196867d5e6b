// libarbor-config.so: the TOML config loader, loaded and unloaded around
// each load by config::load_file_via_module (src/config/load/).

#include "config/module_api.hpp"

#include <new>

namespace {

using arbor::config::load_result;

void fail(load_result& out, const std::string& file) {
  out = load_result{};
  out.errors.push_back({{file, 0, 0}, "out of memory while loading the config"});
}

void load_file(const std::string& path, load_result& out) {
  try {
    out = arbor::config::load_file(path);
  } catch (const std::bad_alloc&) {
    fail(out, path);
  }
}

void load_string(std::string_view text, const std::string& file_name, const std::string& base_dir,
                 load_result& out) {
  try {
    out = arbor::config::load_string(text, file_name, base_dir);
  } catch (const std::bad_alloc&) {
    fail(out, file_name);
  }
}

const arbor::config::module_api api{arbor::config::module_abi, &load_file, &load_string};

} // namespace

extern "C" const arbor::config::module_api* arbor_config_module() {
  return &api;
}
