// libFuzzer target: the value parsers of config/units.hpp. The whole input is
// one value, given to each parser. Checks, besides memory safety and UB:
// results are in range, an error always has a message, and what the loader
// prints back (format_duration, format_size, signal_name) parses to the
// same value.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/detail.hpp"
#include "config/units.hpp"
#include "fuzz_check.hpp"

using namespace arbor::config;
using std::chrono::milliseconds;

namespace {

void check_duration(std::string_view text, milliseconds bare_unit) {
  std::string error;
  auto d = parse_duration(text, bare_unit, error);
  if (!d) {
    FUZZ_CHECK(!error.empty(), "a rejected duration has a message");
    return;
  }
  FUZZ_CHECK(d->count() >= 0, "durations are never negative");
  auto shown = format_duration(*d);
  std::string again_error;
  auto again = parse_duration(shown, bare_unit, again_error);
  FUZZ_CHECK(again && *again == *d, "format_duration reads back as the same duration");
}

void check_size(std::string_view text) {
  std::string error;
  auto s = parse_size(text, error);
  if (!s) {
    FUZZ_CHECK(!error.empty(), "a rejected size has a message");
    return;
  }
  auto shown = format_size(*s);
  std::string again_error;
  auto again = parse_size(shown, again_error);
  FUZZ_CHECK(again && *again == *s, "format_size reads back as the same size");
}

void check_signal(std::string_view text) {
  auto sig = parse_signal(text);
  if (!sig) return;
  FUZZ_CHECK(*sig > 0 && *sig < 65, "signal numbers are 1..64");
  auto name = signal_name(*sig);
  FUZZ_CHECK(parse_signal(name) == sig, "signal_name reads back as the same signal");
  FUZZ_CHECK(parse_signal(std::to_string(*sig)) == sig, "the number reads back");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  // The bare units the loader uses: ms keys, *_secs keys, plain durations.
  check_duration(text, milliseconds{1});
  check_duration(text, milliseconds{1000});
  check_size(text);
  check_signal(text);
  return 0;
}
