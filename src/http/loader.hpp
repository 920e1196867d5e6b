#pragma once

// Finds and loads libarbor-http.so (see module_api.hpp) once per process, on
// first use, from the places of os/module_search.hpp ($ARBOR_HTTP_MODULE
// first).

#include <string>

#include "http/module_api.hpp"

namespace arbor::http {

/// The module's table, or nullptr if it cannot be loaded; then `err` (if
/// given) says which paths were tried and why each failed. The outcome is
/// remembered: later calls answer at once. Thread-safe; never throws.
const module_api* module(std::string* err = nullptr);

/// Loads the module from `path` (no caching, no search): the table, or
/// nullptr with `err` saying why ("<path>: not found", the dlopen error, "no
/// arbor_http_module symbol", "built for another arbor (ABI n, want m)").
const module_api* load_module_from(const std::string& path, std::string& err);

/// Whether the module is loaded in this process (without trying to load it).
bool module_loaded();

} // namespace arbor::http
