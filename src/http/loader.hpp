#pragma once

// Finds and loads libarbor-http.so (see module_api.hpp) once per process, on
// first use. Where it looks, in order:
//   1. $ARBOR_HTTP_MODULE (a path to the file), if set;
//   2. next to the running executable (the build tree: arbor-daemon and the
//      module are both at its top);
//   3. <exe dir>/../lib/arbor/ and <exe dir>/../<libdir>/arbor/ (an
//      installed arbor, relocated or not);
//   4. the install directory configured at build time, then the build tree
//      (for programs embedding arbor::core: their executable is elsewhere).

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
