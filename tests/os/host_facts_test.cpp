#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "os/host_facts.hpp"
#include "util.hpp"

using namespace arbor::os;

TEST_CASE("try_child_dir: made and removed, or the errno of the step that failed") {
  arbor::os::test::scratch_dir s;
  REQUIRE_FALSE(s.path.empty());
  CHECK(try_child_dir(s.path, "probe") == 0);
  CHECK(::access((s.path + "/probe").c_str(), F_OK) != 0); // nothing left behind
  CHECK(try_child_dir(s.path + "/none", "probe") == ENOENT);
  REQUIRE(::mkdir((s.path + "/taken").c_str(), 0700) == 0);
  CHECK(try_child_dir(s.path, "taken") == EEXIST);
  bool found = true;
  CHECK(try_child_dir(s.path, "probe", "cgroup.kill", &found) == 0);
  CHECK_FALSE(found); // a plain directory is no cgroup
}

TEST_CASE("probe_host: a home not made yet is creatable and left unmade, an existing one stat'ed") {
  arbor::os::test::scratch_dir s;
  REQUIRE_FALSE(s.path.empty());
  auto home = s.path + "/a/home";
  auto f = probe_host(home);
  CHECK(f.home == home);
  CHECK(f.home_errno == ENOENT);
  CHECK(f.home_creatable);
  CHECK(::access(home.c_str(), F_OK) != 0); // doctor makes nothing
  CHECK(f.home_free > 0);
  CHECK(f.home_free != UINT64_MAX);
  CHECK(f.euid == ::geteuid());
  CHECK_FALSE(f.kernel.empty());

  REQUIRE(::mkdir((s.path + "/a").c_str(), 0700) == 0);
  REQUIRE(::mkdir(home.c_str(), 0750) == 0);
  f = probe_host(home);
  CHECK(f.home_errno == 0);
  CHECK(S_ISDIR(f.home_stat.st_mode));
  CHECK((f.home_stat.st_mode & 0777) == 0750);
  CHECK(f.home_writable);
}
