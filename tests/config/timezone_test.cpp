#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "config/timezone.hpp"

using arbor::config::time_zone;
namespace detail = arbor::config::detail;

namespace {

int64_t utc(int64_t y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return detail::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/// Zones from the system's tzdata (Debian package `tzdata`, listed in
/// scripts/install-deps.sh). Fails with that hint when it is missing.
time_zone system_zone(const std::string& name) {
  std::string error;
  auto tz = time_zone::load(name, error);
  INFO("this test reads /usr/share/zoneinfo: install tzdata (scripts/install-deps.sh); " << error);
  REQUIRE(tz);
  return *tz;
}

time_zone posix(const char* spec) {
  std::string error;
  auto tz = time_zone::from_posix(spec, error);
  INFO(spec << ": " << error);
  REQUIRE(tz);
  return *tz;
}

/// A scratch zoneinfo directory for hand-made TZif files.
struct scratch_dir {
  std::filesystem::path path = std::filesystem::temp_directory_path()
                               / ("arbor-tz-test-" + std::to_string(::getpid()));
  scratch_dir() { std::filesystem::create_directories(path); }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream{path / name, std::ios::binary} << bytes;
  }
};

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

/// A TZif header: version, then isut, isstd, leap, time, type and char counts.
std::string header(char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt) {
  return std::string{"TZif"} + version + std::string(15, '\0') + be32(0) + be32(0) + be32(0)
         + be32(timecnt) + be32(typecnt) + be32(charcnt);
}

std::string ttinfo(int32_t offset, bool dst, uint8_t abbr) {
  return be32(static_cast<uint32_t>(offset)) + static_cast<char>(dst) + static_cast<char>(abbr);
}

} // namespace

TEST_CASE("time_zone: UTC needs no file") {
  std::string error;
  for (auto name : {"UTC", ""}) {
    auto tz = time_zone::load(name, error, "/nonexistent");
    REQUIRE(tz);
    CHECK(tz->name() == "UTC");
    CHECK(tz->offset_at(0) == 0);
    CHECK(tz->offset_at(utc(2100, 7, 1)) == 0);
  }
  CHECK(time_zone::utc().offset_at(utc(2026, 3, 29, 1)) == 0);
}

TEST_CASE("time_zone: Europe/Berlin offsets before and after the 2026 transitions") {
  auto tz = system_zone("Europe/Berlin");
  CHECK(tz.name() == "Europe/Berlin");
  CHECK(tz.offset_at(utc(2026, 1, 15)) == 3600);
  CHECK(tz.offset_at(utc(2026, 3, 29, 0, 59, 59)) == 3600);
  CHECK(tz.offset_at(utc(2026, 3, 29, 1)) == 7200); // 02:00 CET -> 03:00 CEST
  CHECK(tz.offset_at(utc(2026, 7, 15)) == 7200);
  CHECK(tz.offset_at(utc(2026, 10, 25, 0, 59, 59)) == 7200);
  CHECK(tz.offset_at(utc(2026, 10, 25, 1)) == 3600); // 03:00 CEST -> 02:00 CET
}

TEST_CASE("time_zone: history from the transitions, before the first one local mean time") {
  auto berlin = system_zone("Europe/Berlin");
  CHECK(berlin.offset_at(utc(1800, 1, 1)) == 3208);  // LMT +0:53:28
  CHECK(berlin.offset_at(utc(1945, 6, 1)) == 10800); // double summer time
  CHECK(berlin.offset_at(-1) == 3600);
  auto kolkata = system_zone("Asia/Kolkata");
  CHECK(kolkata.offset_at(utc(1943, 6, 1)) == 23400); // +06:30 in the war
}

TEST_CASE("time_zone: far future from the footer's POSIX rule") {
  auto berlin = system_zone("Europe/Berlin");
  CHECK(berlin.offset_at(utc(2100, 1, 15)) == 3600);
  CHECK(berlin.offset_at(utc(2100, 3, 28, 0, 59, 59)) == 3600); // last Sunday of March
  CHECK(berlin.offset_at(utc(2100, 3, 28, 1)) == 7200);
  CHECK(berlin.offset_at(utc(2100, 10, 31, 0, 59, 59)) == 7200);
  CHECK(berlin.offset_at(utc(2100, 10, 31, 1)) == 3600);
  auto new_york = system_zone("America/New_York");
  CHECK(new_york.offset_at(utc(2100, 3, 14, 6, 59, 59)) == -18000); // second Sunday of March
  CHECK(new_york.offset_at(utc(2100, 3, 14, 7)) == -14400);
  CHECK(new_york.offset_at(utc(2100, 11, 7, 6)) == -18000);
  CHECK(system_zone("Asia/Kolkata").offset_at(utc(2100, 1, 1)) == 19800);
}

TEST_CASE("time_zone: southern hemisphere DST spans the new year") {
  auto sydney = system_zone("Australia/Sydney");
  CHECK(sydney.offset_at(utc(2026, 1, 15)) == 39600); // AEDT
  CHECK(sydney.offset_at(utc(2026, 4, 4, 15, 59, 59)) == 39600);
  CHECK(sydney.offset_at(utc(2026, 4, 4, 16)) == 36000); // 03:00 AEDT -> 02:00 AEST
  CHECK(sydney.offset_at(utc(2026, 10, 3, 15, 59, 59)) == 36000);
  CHECK(sydney.offset_at(utc(2026, 10, 3, 16)) == 39600); // 02:00 AEST -> 03:00 AEDT
  CHECK(sydney.offset_at(utc(2100, 1, 1)) == 39600);
  CHECK(sydney.offset_at(utc(2100, 4, 3, 16)) == 36000);
  CHECK(sydney.offset_at(utc(2100, 10, 2, 16)) == 39600);
}

TEST_CASE("time_zone: POSIX rule forms Mm.w.d, Jn and n, with times") {
  auto cet = posix("CET-1CEST,M3.5.0,M10.5.0/3");
  CHECK(cet.offset_at(utc(2027, 3, 28, 0, 59, 59)) == 3600);
  CHECK(cet.offset_at(utc(2027, 3, 28, 1)) == 7200);
  CHECK(cet.offset_at(utc(2027, 10, 31, 1)) == 3600);

  // Jn counts 1-365 and never Feb 29: J60 is March 1 even in a leap year.
  auto julian = posix("AAA3BBB,J60/0,J305/0"); // -3 / -2, DST Mar 1 .. Nov 1
  CHECK(julian.offset_at(utc(2028, 3, 1, 2, 59, 59)) == -10800);
  CHECK(julian.offset_at(utc(2028, 3, 1, 3)) == -7200);
  CHECK(julian.offset_at(utc(2028, 11, 1, 1, 59, 59)) == -7200);
  CHECK(julian.offset_at(utc(2028, 11, 1, 2)) == -10800);

  // n counts 0-365 including Feb 29: day 59 is Feb 29 in a leap year.
  auto zero_based = posix("<-03>3<-02>,59/0,304/0");
  CHECK(zero_based.offset_at(utc(2028, 2, 29, 2, 59, 59)) == -10800);
  CHECK(zero_based.offset_at(utc(2028, 2, 29, 3)) == -7200);
  CHECK(zero_based.offset_at(utc(2027, 3, 1, 3)) == -7200); // day 59 = March 1

  // Explicit DST offset, negative and >24h rule times (RFC 8536).
  auto odd = posix("XST5XDT3:30,M3.2.0/-1,M11.1.0/26");
  CHECK(odd.offset_at(utc(2026, 3, 8, 3, 59, 59)) == -18000); // Sun Mar 8 -1h = Sat 23:00 XST
  CHECK(odd.offset_at(utc(2026, 3, 8, 4)) == -12600);
  CHECK(odd.offset_at(utc(2026, 11, 2, 5, 29, 59)) == -12600); // Mon 02:00 in XDT
  CHECK(odd.offset_at(utc(2026, 11, 2, 5, 30)) == -18000);

  CHECK(posix("<+0530>-5:30").offset_at(0) == 19800);
  CHECK(posix("EST5EDT").offset_at(utc(2026, 7, 1)) == -14400); // default US rules
  CHECK(posix("EST5EDT,0/0,J365/25").offset_at(utc(2026, 12, 31, 23)) == -14400); // all year
}

TEST_CASE("time_zone: bad POSIX strings are refused") {
  std::string error;
  for (auto bad : {"", "C-1", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
                   "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,J0,J10", "CET-1CEST,M3.5.0,M10.5.0/x",
                   "<+05", "CET25"}) {
    INFO(bad);
    CHECK_FALSE(time_zone::from_posix(bad, error));
    CHECK_THAT(error, Catch::Contains("bad POSIX TZ string"));
  }
}

TEST_CASE("time_zone: names and files that cannot load") {
  std::string error;
  CHECK_FALSE(time_zone::load("../etc/passwd", error));
  CHECK_THAT(error, Catch::Contains("invalid time zone"));
  CHECK_FALSE(time_zone::load("/etc/localtime", error));
  CHECK_THAT(error, Catch::Contains("invalid time zone"));
  CHECK_FALSE(time_zone::load("Mars/Olympus", error));
  CHECK_THAT(error, Catch::Contains("unknown time zone 'Mars/Olympus'"));
  CHECK_FALSE(time_zone::load("Europe/Berlin", error, "/nonexistent"));
  CHECK_THAT(error, Catch::Contains("unknown time zone"));

  scratch_dir dir;
  dir.write("text", "not a zone\n");
  dir.write("short", header('2', 1, 1, 4).substr(0, 30));
  dir.write("truncated", header(0, 3, 1, 4) + be32(0));
  dir.write("bad_footer", header('2', 0, 0, 0) + header('2', 0, 1, 4) + ttinfo(0, false, 0)
                              + "ABC" + '\0' + "\n<bad\n");
  dir.write("unordered", header(0, 2, 1, 4) + be32(20) + be32(10) + '\0' + '\0'
                             + ttinfo(0, false, 0) + "ABC" + '\0');
  for (auto name : {"text", "short", "truncated", "bad_footer", "unordered", "."}) {
    INFO(name);
    CHECK_FALSE(time_zone::load(name, error, dir.path.string()));
  }
  CHECK_FALSE(time_zone::load("text", error, dir.path.string()));
  CHECK_THAT(error, Catch::Contains("not valid TZif data"));
}

TEST_CASE("time_zone: hand-made TZif v1 and v2 files from another directory") {
  scratch_dir dir;
  // v1: UTC+0 until 1,000,000,000, then +1h for ever (no footer in v1).
  dir.write("v1", header(0, 1, 2, 8) + be32(1000000000) + '\1' + ttinfo(0, false, 0)
                      + ttinfo(3600, false, 4) + std::string{"AAA\0BBB", 8});
  // v2: a v1 block to skip (32-bit), then 64-bit data with one transition in
  // 2200 (beyond 32 bits) and a footer.
  const int64_t t2200 = utc(2200, 1, 1);
  std::string v1_block = be32(0) + '\0' + ttinfo(0, false, 0) + std::string{"AAA\0", 4};
  std::string v2_time =
    be32(static_cast<uint32_t>(t2200 >> 32)) + be32(static_cast<uint32_t>(t2200));
  dir.write("v2", header('2', 1, 1, 4) + v1_block + header('2', 1, 2, 8) + v2_time + '\1'
                      + ttinfo(-3600, false, 0) + ttinfo(7200, false, 4)
                      + std::string{"AAA\0BBB", 8} + "\nBBB-2\n");
  std::string error;
  auto v1 = time_zone::load("v1", error, dir.path.string());
  INFO(error);
  REQUIRE(v1);
  CHECK(v1->name() == "v1");
  CHECK(v1->offset_at(999999999) == 0);
  CHECK(v1->offset_at(1000000000) == 3600);
  CHECK(v1->offset_at(utc(2300, 1, 1)) == 3600);

  auto v2 = time_zone::load("v2", error, dir.path.string());
  INFO(error);
  REQUIRE(v2);
  CHECK(v2->offset_at(0) == -3600);
  CHECK(v2->offset_at(t2200 - 1) == -3600);
  CHECK(v2->offset_at(t2200) == 7200);
  CHECK(v2->offset_at(t2200 + 86400) == 7200); // from the footer
}

TEST_CASE("time_zone: a subdirectory works as zoneinfo_dir") {
  std::string error;
  auto tz = time_zone::load("Berlin", error, "/usr/share/zoneinfo/Europe");
  INFO("this test reads /usr/share/zoneinfo: install tzdata (scripts/install-deps.sh); " << error);
  REQUIRE(tz);
  CHECK(tz->offset_at(utc(2026, 7, 1)) == 7200);
}

TEST_CASE("time_zone: civil calendar helpers") {
  CHECK(detail::days_from_civil(1970, 1, 1) == 0);
  CHECK(detail::days_from_civil(2000, 3, 1) == 11017);
  CHECK(detail::days_from_civil(1969, 12, 31) == -1);
  auto d = detail::civil_from_days(detail::days_from_civil(2028, 2, 29));
  CHECK(d.year == 2028);
  CHECK(d.month == 2);
  CHECK(d.day == 29);
  CHECK(detail::weekday_from_days(0) == 4); // Thursday
  CHECK(detail::weekday_from_days(-1) == 3);
  CHECK(detail::weekday_from_days(detail::days_from_civil(2026, 3, 29)) == 0); // Sunday
  CHECK(detail::days_in_month(2100, 2) == 28);
  CHECK(detail::days_in_month(2000, 2) == 29);
  CHECK(detail::days_in_month(2026, 4) == 30);
}
