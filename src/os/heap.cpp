#include "os/heap.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace arbor::os {

bool release_free_heap() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

void use_one_arena() {
#if defined(__GLIBC__)
  ::mallopt(M_ARENA_MAX, 1);
#endif
}

} // namespace arbor::os
