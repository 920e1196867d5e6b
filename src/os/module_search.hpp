#pragma once

// Where arbor's loadable modules (libarbor-http.so, libarbor-config.so) are
// looked for, in order:
//   1. $<env_var> (a path to the file), if set: nothing else;
//   2. next to the running executable (the build tree: the binaries and the
//      modules are both at its top);
//   3. <exe dir>/../lib/arbor/ and <exe dir>/../<libdir>/arbor/ (an
//      installed arbor, relocated or not);
//   4. the install path configured at build time, then the build tree (for
//      programs embedding arbor::core: their executable is elsewhere).

#include <string>
#include <vector>

namespace arbor::os {

struct module_places {
  std::string file;          ///< "libarbor-http.so"
  const char* env_var;       ///< "ARBOR_HTTP_MODULE"
  std::string libdir_name;   ///< "lib" / "lib64" / "lib/x86_64-linux-gnu" ("" = none)
  std::string installed;     ///< full installed path ("" = none)
  std::string built;         ///< full path in the build tree ("" = none)
};

std::vector<std::string> module_candidates(const module_places& p);

} // namespace arbor::os
