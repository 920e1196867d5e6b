// `arbor doctor --json` on this machine: what it says about cgroups and
// tcp_migrate_req is what the test reads itself from /proc and /sys; a home
// others may write and a config the descriptor limit cannot hold fail it.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;
using Catch::Contains;

namespace {

nlohmann::json entry(const nlohmann::json& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.at("check") == name) return c;
  FAIL("no check " << name << " in " << checks.dump());
  return {};
}

/// The cgroup layout, read the plain way: mountinfo's fstype after " - ",
/// and for a v1 mount its super options.
struct layout {
  std::string v2_mount;
  bool v1_limits = false; ///< memory, cpu or pids on a v1 hierarchy
};

layout read_layout() {
  layout l;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, mount, fstype, source, opts;
    head >> id >> parent >> dev >> root >> mount;
    tail >> fstype >> source >> opts;
    if (fstype == "cgroup2" && l.v2_mount.empty()) l.v2_mount = mount;
    if (fstype == "cgroup")
      for (const char* c : {",memory", ",cpu", ",pids"})
        if (("," + opts + ",").find(std::string{c} + ",") != std::string::npos) l.v1_limits = true;
  }
  return l;
}

/// Our own v2 cgroup ("0::/path"), absolute; "" if none.
std::string v2_self(const std::string& mount) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("0::", 0) == 0) return line.substr(3) == "/" ? mount : mount + line.substr(3);
  return {};
}

} // namespace

TEST_CASE("arbor doctor --json: cgroups and tcp_migrate_req as this host has them, exit 0") {
  temp_dir d;
  auto home = d.file("home");
  auto r = run_arbor({"doctor", "--json"}, home);
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  auto checks = nlohmann::json::parse(r.out);
  REQUIRE(checks.is_array());
  for (const auto& c : checks) {
    INFO(c.dump());
    for (const char* key : {"check", "status", "detail", "fix", "needed"}) CHECK(c.contains(key));
    CHECK((c.at("status") == "ok") == c.at("fix").get<std::string>().empty());
  }

  auto l = read_layout();
  auto version = entry(checks, "cgroup.version");
  const char* expected = !l.v2_mount.empty() ? (l.v1_limits ? "hybrid: cgroup2 at " : "v2: cgroup2 at ")
                         : l.v1_limits       ? "v1 only"
                                             : "no cgroup";
  CHECK_THAT(version.at("detail").get<std::string>(), Contains(expected));
  if (!l.v2_mount.empty()) CHECK_THAT(version.at("detail").get<std::string>(), Contains(l.v2_mount));

  // Whether a cgroup can be made under ours: the test's own try.
  auto self = l.v2_mount.empty() ? std::string{} : v2_self(l.v2_mount);
  auto probe = self + "/arbor-doctor-test-" + std::to_string(::getpid());
  bool can = !self.empty() && ::mkdir(probe.c_str(), 0755) == 0;
  bool kill = can && ::access((probe + "/cgroup.kill").c_str(), F_OK) == 0;
  if (can) ::rmdir(probe.c_str());
  auto contain = entry(checks, "cgroup.containment");
  CHECK(contain.at("status") == (can && kill ? "ok" : "degraded"));
  if (can && kill) CHECK_THAT(contain.at("detail").get<std::string>(), Contains(self));

  std::ifstream sysctl("/proc/sys/net/ipv4/tcp_migrate_req");
  int migrate = -1;
  sysctl >> migrate;
  auto tcp = entry(checks, "tcp_migrate_req");
  CHECK(tcp.at("status") == (migrate < 0 ? "missing" : migrate == 0 ? "degraded" : "ok"));
  if (migrate >= 0)
    CHECK(tcp.at("detail").get<std::string>().rfind(std::to_string(migrate) + ":", 0) == 0);
  if (migrate == 0) CHECK(tcp.at("fix") == "sysctl -w net.ipv4.tcp_migrate_req=1 (or use `listen`)");

  auto home_check = entry(checks, "home");
  CHECK(home_check.at("status") == "ok");
  CHECK_THAT(home_check.at("detail").get<std::string>(), Contains(home));
}

TEST_CASE("arbor doctor: a home others may write, or a config over the hard nofile, exits 1") {
  temp_dir d;
  auto home = d.file("home");
  REQUIRE(::mkdir(home.c_str(), 0700) == 0);
  REQUIRE(::chmod(home.c_str(), 0777) == 0);
  auto r = run_arbor({"doctor"}, home);
  INFO(r.out << r.err);
  CHECK(r.rc == 1);
  CHECK_THAT(r.out, Contains("\nhome ") && Contains("refusing ARBOR_HOME " + home)
                      && Contains("    fix: chown "));
  REQUIRE(::chmod(home.c_str(), 0700) == 0);

  // 300 instances need 300 × 5 + 122 = 1,622 descriptors; the shell gives 1000.
  std::ofstream(d.file("big.toml")) << "[web]\ncommand = \"sleep 100\"\ninstances = 300\n";
  auto tight = run_program({"/bin/sh", "-c", "ulimit -n 1000 && exec \"$0\" doctor --json -c \"$1\"",
                            ARBOR_BIN, d.file("big.toml")},
                           {"ARBOR_HOME=" + home}, home);
  INFO(tight.out << tight.err);
  CHECK(tight.rc == 1);
  auto checks = nlohmann::json::parse(tight.out);
  auto cfg = entry(checks, "nofile.config");
  CHECK(cfg.at("status") == "error");
  CHECK_THAT(cfg.at("detail").get<std::string>(), Contains("1,622 descriptors"));
  CHECK(entry(checks, "nofile").at("status") == "degraded"); // (1000 - 122) / 5 = 175 instances
}
