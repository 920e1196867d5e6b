#pragma once

// Shared by the fuzz targets: an invariant check that stays on in release
// builds and in the corpus replay (a failed check aborts, so libFuzzer saves
// the input as a crash and ctest fails).

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                             \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, what);                                                           \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
