#pragma once

// config::load_file / load_string through libarbor-config.so (see
// config/module_api.hpp): dlopen, load, dlclose. What arbor_core (the
// daemon, embedders) uses, so that toml++ is mapped only while a config is
// being read.

#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace arbor::config {

/// As load_file. If the module cannot be loaded, a result with one
/// diagnostic (at `path`) saying which places were tried and why each
/// failed. Thread-safe; never throws.
load_result load_file_via_module(const std::string& path);

/// As load_string, through the module.
load_result load_string_via_module(std::string_view text, const std::string& file_name,
                                   const std::string& base_dir);

} // namespace arbor::config
