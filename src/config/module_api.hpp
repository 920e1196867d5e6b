#pragma once

// The config module: reading TOML (toml++ and arbor's walk over it) lives in
// libarbor-config.so, loaded for each load and unloaded right after
// (config/load/via_module.hpp). A daemon reads its config at start and on
// `apply`, and runs for months in between: toml++ and the loader were
// ~0.3 MB of its resident code that it touched once.
//
// Module and loader are built together by the same compiler and standard
// library, so the table passes C++ types; `abi` guards against a module left
// over from another build. What crosses is plain data (load_result: strings,
// vectors, optionals), so it outlives the module's unloading.

#include <cstdint>
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace arbor::config {

constexpr uint32_t module_abi = 1;

struct module_api {
  uint32_t abi;
  /// config::load_file / load_string into `out`. Never throw.
  void (*load_file)(const std::string& path, load_result& out);
  void (*load_string)(std::string_view text, const std::string& file_name,
                      const std::string& base_dir, load_result& out);
};

} // namespace arbor::config

/// The module's one exported symbol.
extern "C" const arbor::config::module_api* arbor_config_module();
