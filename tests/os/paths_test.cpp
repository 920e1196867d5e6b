// os/paths.hpp: mkdir -p, absolute + lexically normal, the executable's dir.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "os/paths.hpp"
#include "util.hpp"

namespace {

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

TEST_CASE("paths: make_dirs makes every missing level, accepts what exists") {
  arbor::os::test::scratch_dir t;
  REQUIRE_FALSE(t.path.empty());
  std::error_code ec;
  arbor::os::make_dirs(t.path + "/a/b//c/", ec);
  CHECK_FALSE(ec);
  CHECK(is_dir(t.path + "/a/b/c"));
  arbor::os::make_dirs(t.path + "/a/b", ec); // already there
  CHECK_FALSE(ec);
}

TEST_CASE("paths: make_dirs reports a file in the way") {
  arbor::os::test::scratch_dir t;
  REQUIRE_FALSE(t.path.empty());
  std::ofstream(t.path + "/file") << "x";
  std::error_code ec;
  arbor::os::make_dirs(t.path + "/file/sub", ec);
  CHECK(ec == std::errc::not_a_directory);
  arbor::os::make_dirs(t.path + "/file", ec);
  CHECK(ec == std::errc::not_a_directory);
}

TEST_CASE("paths: absolute resolves against the working directory, lexically") {
  using arbor::os::absolute;
  CHECK(absolute("/etc/../etc/./arbor.toml") == "/etc/arbor.toml");
  CHECK(absolute("//a///b/..//c") == "/a/c");
  CHECK(absolute("/..") == "/");
  CHECK(absolute("/a/b/") == "/a/b/");
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
  CHECK(absolute("x/../y.toml") == std::string{cwd} + "/y.toml");
  CHECK(absolute(".") == std::string{cwd});
}

TEST_CASE("paths: exe_dir is where this test binary is, beside_exe names a file there") {
  auto dir = arbor::os::exe_dir();
  REQUIRE(!dir.empty());
  CHECK(::access((dir + "/os_tests").c_str(), X_OK) == 0);
  CHECK(arbor::os::beside_exe("os_tests") == dir + "/os_tests");
}
