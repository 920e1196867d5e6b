#include <catch2/catch.hpp>

#include "os/cgroup_host.hpp"

using namespace arbor::os;

TEST_CASE("cgroup mounts: a hybrid host's v1 controllers and its unified tree", "[cgroup]") {
  const char* text =
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
    "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
    "36 30 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "37 30 0:33 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "40 22 8:1 / /mnt/my\\040disk rw - ext4 /dev/sda1 rw\n";
  auto m = parse_cgroup_mounts(text);
  REQUIRE(m.size() == 4);
  CHECK(m[0].path == "/sys/fs/cgroup/unified");
  CHECK(m[0].v2);
  CHECK(m[1].path == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(m[1].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(m[2].controllers == std::vector<std::string>{"memory"});
  CHECK(m[3].controllers == std::vector<std::string>{"xattr"});
}

TEST_CASE("cgroup mounts: an escaped mount point is unescaped", "[cgroup]") {
  auto m = parse_cgroup_mounts("31 25 0:27 / /sys/fs/my\\040cg rw - cgroup2 cgroup2 rw\n");
  REQUIRE(m.size() == 1);
  CHECK(m[0].path == "/sys/fs/my cg");
}

TEST_CASE("/proc/self/cgroup: v1 lines and the v2 line", "[cgroup]") {
  auto c = parse_proc_cgroup("4:memory:/process_api/65\n2:cpu,cpuacct:/\n0::/system.slice/a.service\n");
  REQUIRE(c.size() == 3);
  CHECK(c[0].controllers == std::vector<std::string>{"memory"});
  CHECK(c[0].path == "/process_api/65");
  CHECK_FALSE(c[0].v2);
  CHECK(c[1].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(c[2].v2);
  CHECK(c[2].path == "/system.slice/a.service");
}

TEST_CASE("this host's cgroups are found where /proc says", "[cgroup]") {
  auto h = probe_cgroup_host();
  for (auto& c : h.controllers) {
    INFO(c.name);
    CHECK((c.v2 || c.dir.rfind("/", 0) == 0));
  }
  if (!h.v2_mount.empty()) CHECK(h.v2_self.rfind(h.v2_mount, 0) == 0);
}
