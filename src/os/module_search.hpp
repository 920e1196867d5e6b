#pragma once

// Where arbor's loadable modules (libarbor-http.so, libarbor-config.so) are
// looked for, and how one is opened. Each exports one function returning a
// pointer to its table, whose first member is the table's uint32_t ABI.
// Looked for, in order:
//   1. $<env_var> (a path to the file), if set: nothing else;
//   2. next to the running executable (the build tree: the binaries and the
//      modules are both at its top);
//   3. <exe dir>/../lib/arbor/ and <exe dir>/../<libdir>/arbor/ (an
//      installed arbor, relocated or not);
//   4. the install path configured at build time, then the build tree (for
//      programs embedding arbor::core: their executable is elsewhere).

#include <cstdint>
#include <string>
#include <vector>

namespace arbor::os {

/// Where to look for `file` ("libarbor-http.so"), given the variable that
/// overrides it ("ARBOR_HTTP_MODULE").
std::vector<std::string> module_candidates(const std::string& file, const char* env_var);

/// A dlopen()ed module: its handle (for dlclose) and its table.
struct opened_module {
  void* handle = nullptr;
  const void* table = nullptr; ///< nullptr: not opened
};

/// dlopen()s `path` and calls its `entry`; the table if its ABI is `abi`,
/// else nothing with `err` saying why ("<path>: not found", the dlopen
/// error, "<path>: no <entry> symbol", "<path>: built for another arbor (ABI
/// n, want m)"). Never throws but bad_alloc.
opened_module open_module(const std::string& path, const char* entry, uint32_t abi,
                          std::string& err);

/// The first of `paths` that opens; else nothing, with `tried` saying why each
/// failed ("; " between them).
opened_module open_first_module(const std::vector<std::string>& paths, const char* entry,
                                uint32_t abi, std::string& tried);

} // namespace arbor::os
