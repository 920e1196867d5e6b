#!/usr/bin/env bash
# Builds arbor and its test suite with gcc AddressSanitizer + UndefinedBehavior-
# Sanitizer in build-asan and runs ctest (all but the `install` test, which
# builds an outside project and only checks packaging).
#
#   scripts/sanitize.sh [extra ctest args, e.g. -R loader]
#
# Any sanitizer report fails its test: ASan aborts, UBSan halts on the first
# error, LeakSanitizer runs at every exit with scripts/lsan.supp (third-party
# leaks only). Works from a clean clone, without stdin; prints the elapsed
# time. Environment: ARBOR_ASAN_BUILD (build dir), SANITIZE_JOBS (build and
# ctest parallelism, 2), SANITIZE_LEAKS=0 (no leak checking).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ARBOR_ASAN_BUILD:-$root/build-asan}
jobs=${SANITIZE_JOBS:-2}
start=$(date +%s)
report() {
  local rc=$?
  echo "sanitize.sh: elapsed $(($(date +%s) - start))s (exit $rc)"
}
trap report EXIT

san="-fsanitize=address,undefined -fno-omit-frame-pointer"
# -O1 keeps the suite fast enough; -g1 (line tables: reports still show
# file:line) compiles ~25% faster than -g. Warnings stay warnings here: the
# plain build enforces -Werror, and gcc's sanitizer instrumentation brings
# false positives: -Wmaybe-uninitialized inside libstdc++'s std::regex and
# std::function (70 of them per build, none in our code) is turned off.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
  -DARBOR_BUILD_BENCH=OFF -DARBOR_WERROR=OFF \
  -DCMAKE_CXX_FLAGS="$san -O1 -Wno-maybe-uninitialized" -DCMAKE_C_FLAGS="$san -O1" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_SHARED_LINKER_FLAGS="$san" </dev/null
echo "sanitize.sh: building in $build (-j$jobs)"
cmake --build "$build" -j "$jobs" </dev/null
echo "sanitize.sh: built after $(($(date +%s) - start))s"

leaks=1
[[ ${SANITIZE_LEAKS:-1} == 0 ]] && leaks=0
export ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# Not here: `daemon memory:` measures glibc's malloc giving pages back
# (malloc_trim); ASan's allocator replaces glibc's, so there is nothing to
# measure. It runs in the plain build.
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 300 -LE '^install$' \
  -E '^daemon memory: ' "$@" </dev/null
