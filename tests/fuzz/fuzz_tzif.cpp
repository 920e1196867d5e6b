// libFuzzer target: the TZif reader behind `cron_tz` (time_zone::load in
// config/timezone.hpp), with offset_at and next_fire on what it accepts.
//
// Input: the bytes of a zoneinfo file. time_zone::load reads only files, so
// each input is written to `zone` in a private temporary directory (on
// /dev/shm when it can) that is removed at exit.
//
// Checks, besides memory safety and UB: a rejected file has a message;
// offsets of an accepted zone stay within a week; next_fire in it fires
// strictly after the start. (Arbitrary zone data may change offsets several
// times a day, which next_fire documents as unsupported, so whether its local
// time matches is checked by the cron target on POSIX rules, not here.)

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "config/cron.hpp"
#include "config/timezone.hpp"
#include "fuzz_check.hpp"

using namespace arbor::config;

namespace {

struct scratch_dir {
  std::string path;
  scratch_dir() {
    // tmpfs if there is one: a disk file rewritten per input costs ~4 ms.
    const char* tmp = std::getenv("TMPDIR");
    std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp && *tmp ? tmp : "/tmp";
    std::string templ = base + "/arbor-fuzz-tzif.XXXXXX";
    if (!::mkdtemp(templ.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    path = templ;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::string& dir() {
  static scratch_dir d;
  return d.path;
}

void write_zone(const uint8_t* data, size_t size) {
  auto file = dir() + "/zone";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FUZZ_CHECK(fd >= 0, "open the scratch zone file");
  size_t done = 0;
  while (done < size) {
    auto n = ::write(fd, data + done, size - done);
    FUZZ_CHECK(n > 0, "write the scratch zone file");
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_zone(data, size);
  std::string error;
  auto tz = time_zone::load("zone", error, dir());
  if (!tz) {
    FUZZ_CHECK(!error.empty(), "a rejected zone has a message");
    return 0;
  }
  const int64_t starts[] = {-(int64_t{1} << 40), -1, 0, 1774742399, 4102444799,
                            int64_t{1} << 40};
  for (int64_t s : starts) {
    int off = tz->offset_at(s);
    FUZZ_CHECK(off > -7 * 86400 && off < 7 * 86400, "offsets stay within a week");
  }
  std::string cron_error;
  static const auto hourly = parse_cron("0 * * * *", cron_error);
  FUZZ_CHECK(hourly.has_value(), "parse the hourly expression");
  for (int64_t s : {int64_t{0}, int64_t{1774742399}}) {
    auto from = std::chrono::system_clock::time_point{std::chrono::seconds{s}};
    auto fire = next_fire(*hourly, from, *tz);
    if (fire) FUZZ_CHECK(*fire > from, "fires strictly after the start");
  }
  return 0;
}
