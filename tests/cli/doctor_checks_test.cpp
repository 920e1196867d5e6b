// `arbor doctor`'s verdicts on described hosts: each fact in, the status
// and the fix out.

#include <catch2/catch.hpp>

#include <cerrno>

#include "cli/doctor_checks.hpp"
#include "config/loader.hpp"

using namespace arbor;
using cli::check_status;
using Catch::Contains;

namespace {

os::cgroup_controller v1(const std::string& name, const std::string& dir) {
  return {name, false, dir};
}

os::cgroup_controller v2(const std::string& name) {
  return {name, true, ""};
}

/// A healthy hybrid host, run as root: this CI machine's layout.
os::host_facts hybrid_root() {
  os::host_facts f;
  f.cgroups.v2_mount = "/sys/fs/cgroup/unified";
  f.cgroups.v2_self = "/sys/fs/cgroup/unified";
  f.cgroups.controllers = {v1("memory", "/sys/fs/cgroup/memory/ci"), v1("cpu", "/sys/fs/cgroup/cpu"),
                           v1("pids", "/sys/fs/cgroup/pids")};
  f.v2_child_errno = 0;
  f.v2_kill = true;
  f.v2_subtree_writable = true;
  f.v1_child_errno = {{"memory", 0}, {"cpu", 0}, {"pids", 0}};
  f.tcp_migrate_req = 1;
  f.nofile_soft = 1024;
  f.nofile_hard = 524288;
  f.zoneinfo = true;
  f.home = "/root/.arbor";
  f.home_stat.st_mode = S_IFDIR | 0700;
  f.home_free = 10ull << 30;
  f.systemd_pid1 = true;
  f.systemd_analyze = "/usr/bin/systemd-analyze";
  f.kernel = "6.1.0-18-amd64";
  f.clone_arch = true;
  return f;
}

/// A systemd user service with Delegate=yes on a pure v2 host.
os::host_facts v2_delegated() {
  auto f = hybrid_root();
  f.cgroups.v2_mount = "/sys/fs/cgroup";
  f.cgroups.v2_self = "/sys/fs/cgroup/user.slice/user-1000.slice/arbor.service";
  f.cgroups.controllers = {v2("memory"), v2("cpu"), v2("pids")};
  f.v1_child_errno.clear();
  f.euid = 1000;
  f.home = "/home/a/.arbor";
  f.home_stat.st_uid = 1000;
  return f;
}

const cli::host_check& find(const std::vector<cli::host_check>& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.check == name) return c;
  FAIL("no check " << name);
  throw;
}

} // namespace

TEST_CASE("doctor: a hybrid host run as root contains with cgroup2 and limits through v1") {
  auto checks = cli::judge_host(hybrid_root(), std::nullopt);
  auto& version = find(checks, "cgroup.version");
  CHECK(version.status == check_status::ok);
  CHECK_THAT(version.detail, Contains("hybrid") && Contains("on v1: memory, cpu, pids"));
  CHECK(find(checks, "cgroup.containment").status == check_status::ok);
  for (const char* c : {"cgroup.memory", "cgroup.cpu", "cgroup.pids"}) {
    INFO(c);
    CHECK(find(checks, c).status == check_status::ok);
    CHECK_THAT(find(checks, c).detail, Contains("on v1 at /sys/fs/cgroup/"));
  }
  CHECK_THAT(find(checks, "cgroup.memory").detail, Contains("memory_max can be applied"));
  for (const auto& c : checks) {
    INFO(c.check << ": " << c.detail);
    CHECK(c.status == check_status::ok);
    CHECK(c.fix.empty());
  }
  CHECK(cli::doctor_exit_code(checks) == 0);
}

TEST_CASE("doctor: a hybrid host without delegation falls back to process groups, limits refused") {
  auto f = hybrid_root();
  f.euid = 1000;
  f.home_stat.st_uid = 1000;
  f.v2_child_errno = EACCES;
  f.v1_child_errno = {{"memory", EACCES}, {"cpu", EACCES}, {"pids", EACCES}};
  auto checks = cli::judge_host(f, std::nullopt);
  auto& contain = find(checks, "cgroup.containment");
  CHECK(contain.status == check_status::degraded);
  CHECK_THAT(contain.detail, Contains("Permission denied") && Contains("process group")
                               && Contains("setsid() double fork escapes stop"));
  CHECK_THAT(contain.fix, Contains("Delegate=yes") && Contains("or as root"));
  auto& memory = find(checks, "cgroup.memory");
  CHECK(memory.status == check_status::degraded);
  CHECK_THAT(memory.detail, Contains("memory_max cannot be applied"));
  CHECK(memory.fix == "run arbor as root");
  CHECK_THAT(find(checks, "cgroup.cpu").detail, Contains("cpu_max and cpu_weight cannot"));
  auto& root = find(checks, "root");
  CHECK(root.status == check_status::degraded);
  CHECK_THAT(root.detail, Contains("user and group keys are refused"));
  CHECK(cli::doctor_exit_code(checks) == 0); // degraded, not broken
}

TEST_CASE("doctor: v2 with delegation, and a controller not delegated names its subtree_control") {
  auto f = v2_delegated();
  auto checks = cli::judge_host(f, std::nullopt);
  CHECK_THAT(find(checks, "cgroup.version").detail, Contains("v2: cgroup2 at /sys/fs/cgroup"));
  CHECK(find(checks, "cgroup.containment").status == check_status::ok);
  CHECK_THAT(find(checks, "cgroup.containment").detail, Contains("arbor.service"));
  CHECK(find(checks, "cgroup.pids").status == check_status::ok);
  CHECK_THAT(find(checks, "cgroup.pids").detail, Contains("on v2"));

  f.cgroups.controllers = {v2("cpu"), v2("pids")};
  auto memory = find(cli::judge_host(f, std::nullopt), "cgroup.memory");
  CHECK(memory.status == check_status::degraded);
  CHECK(memory.fix == "echo +memory > /sys/fs/cgroup/user.slice/user-1000.slice/"
                      "cgroup.subtree_control (under systemd: Delegate=yes)");

  f.cgroups.controllers.push_back(v2("memory"));
  f.v2_subtree_writable = false; // cgroups may be made, controllers not handed down
  memory = find(cli::judge_host(f, std::nullopt), "cgroup.memory");
  CHECK(memory.status == check_status::degraded);
  CHECK_THAT(memory.detail, Contains("may not write /sys/fs/cgroup/user.slice/user-1000.slice/"
                                     "arbor.service/cgroup.subtree_control"));
  CHECK_THAT(memory.fix, Contains("Delegate=yes"));
  CHECK(find(cli::judge_host(f, std::nullopt), "cgroup.containment").status == check_status::ok);

  f.v2_child_errno = EROFS; // a container's read-only cgroup2
  auto contain = find(cli::judge_host(f, std::nullopt), "cgroup.containment");
  CHECK(contain.status == check_status::degraded);
  CHECK(contain.fix == "mount -o remount,rw /sys/fs/cgroup");

  f.v2_child_errno = 0;
  f.v2_kill = false;
  contain = find(cli::judge_host(f, std::nullopt), "cgroup.containment");
  CHECK(contain.status == check_status::degraded);
  CHECK_THAT(contain.detail, Contains("no cgroup.kill"));
  CHECK(contain.fix == "upgrade to Linux 5.14 or later");
}

TEST_CASE("doctor: no cgroups at all, and v1 only") {
  auto f = hybrid_root();
  f.cgroups = {};
  f.v1_child_errno.clear();
  auto checks = cli::judge_host(f, std::nullopt);
  CHECK(find(checks, "cgroup.version").status == check_status::missing);
  auto& contain = find(checks, "cgroup.containment");
  CHECK(contain.status == check_status::degraded);
  CHECK(contain.fix == "boot with systemd.unified_cgroup_hierarchy=1");
  CHECK(find(checks, "cgroup.pids").status == check_status::degraded);
  CHECK_THAT(find(checks, "cgroup.pids").detail, Contains("pids_max cannot be applied"));
  CHECK(cli::doctor_exit_code(checks) == 0); // arbor runs, with process groups

  f.cgroups.controllers = {v1("memory", "/sys/fs/cgroup/memory")};
  f.v1_child_errno = {{"memory", 0}};
  checks = cli::judge_host(f, std::nullopt);
  auto& version = find(checks, "cgroup.version");
  CHECK(version.status == check_status::degraded);
  CHECK_THAT(version.detail, Contains("v1 only"));
  CHECK(version.fix == "boot with systemd.unified_cgroup_hierarchy=1");
  CHECK(find(checks, "cgroup.memory").status == check_status::ok);
}

TEST_CASE("doctor: tcp_migrate_req 0, 1 and absent") {
  auto f = hybrid_root();
  f.tcp_migrate_req = 0;
  auto zero = find(cli::judge_host(f, std::nullopt), "tcp_migrate_req");
  CHECK(zero.status == check_status::degraded);
  CHECK_THAT(zero.detail, Contains("may drop"));
  CHECK(zero.fix == "sysctl -w net.ipv4.tcp_migrate_req=1 (or use `listen`)");
  f.tcp_migrate_req = 1;
  auto one = find(cli::judge_host(f, std::nullopt), "tcp_migrate_req");
  CHECK(one.status == check_status::ok);
  CHECK(one.fix.empty());
  f.tcp_migrate_req = -1;
  auto none = find(cli::judge_host(f, std::nullopt), "tcp_migrate_req");
  CHECK(none.status == check_status::missing);
  CHECK_THAT(none.fix, Contains("listen"));
}

TEST_CASE("doctor: a low hard nofile limit, and a config that does or does not fit") {
  auto f = hybrid_root();
  f.nofile_hard = 1024; // (1024 - 56 - 64 - 2) / 5 = 180 instances
  auto low = find(cli::judge_host(f, std::nullopt), "nofile");
  CHECK(low.status == check_status::degraded);
  CHECK_THAT(low.detail, Contains("soft 1024, hard 1024") && Contains("~180 instances"));
  CHECK_THAT(low.fix, Contains("LimitNOFILE="));
  f.nofile_hard = UINT64_MAX;
  CHECK(find(cli::judge_host(f, std::nullopt), "nofile").status == check_status::ok);

  auto res = config::load_string("[web]\ncommand = \"sh\"\ninstances = 300\n", "a.toml", "/tmp");
  REQUIRE(res.ok());
  cli::config_budget cfg{"/tmp/a.toml", "", config::descriptors_needed(res.tree->root)};
  f.nofile_hard = 1024; // 300 × 5 + 122 = 1622
  auto checks = cli::judge_host(f, cfg);
  auto& tight = find(checks, "nofile.config");
  CHECK(tight.status == check_status::error);
  CHECK_THAT(tight.detail, Contains("/tmp/a.toml") && Contains("1,622 descriptors"));
  CHECK_THAT(tight.fix, Contains("LimitNOFILE=1622"));
  CHECK(cli::doctor_exit_code(checks) == 1);
  f.nofile_hard = 4096;
  checks = cli::judge_host(f, cfg);
  CHECK(find(checks, "nofile.config").status == check_status::ok);
  CHECK(cli::doctor_exit_code(checks) == 0);

  cfg.load_error = "a.toml:1:1: unknown key";
  checks = cli::judge_host(f, cfg);
  CHECK(find(checks, "nofile.config").status == check_status::error);
  CHECK(find(checks, "nofile.config").fix == "arbor check /tmp/a.toml");
  CHECK(cli::doctor_exit_code(checks) == 1);
}

TEST_CASE("doctor: the home's owner and mode (the daemon's own verdict), space, zoneinfo") {
  auto f = hybrid_root();
  f.euid = 1000;
  f.home = "/srv/arbor";
  f.home_stat.st_uid = 1000;
  f.home_stat.st_mode = S_IFDIR | 0775;
  auto checks = cli::judge_host(f, std::nullopt);
  auto& home = find(checks, "home");
  CHECK(home.status == check_status::error);
  CHECK_THAT(home.detail, Contains("refusing ARBOR_HOME /srv/arbor") && Contains("mode 0775"));
  CHECK(home.fix == "chown 1000 /srv/arbor && chmod 700 /srv/arbor");
  CHECK(cli::doctor_exit_code(checks) == 1);

  f.home_stat.st_uid = 0; // root's, mode 0755: allowed, but not ours to write
  f.home_stat.st_mode = S_IFDIR | 0755;
  f.home_writable = false;
  auto readonly = find(cli::judge_host(f, std::nullopt), "home");
  CHECK(readonly.status == check_status::error);
  CHECK_THAT(readonly.detail, Contains("not writable by uid 1000"));
  CHECK(readonly.fix == "chown 1000 /srv/arbor (as root), or set ARBOR_HOME");

  f.home_errno = ENOENT;
  f.home_creatable = true;
  CHECK(find(cli::judge_host(f, std::nullopt), "home").status == check_status::ok);
  f.home_creatable = false;
  CHECK(find(cli::judge_host(f, std::nullopt), "home").status == check_status::error);

  f.home_free = 5ull << 20;
  auto disk = find(cli::judge_host(f, std::nullopt), "home.disk");
  CHECK(disk.status == check_status::degraded);
  CHECK_THAT(disk.detail, Contains("5 MiB free"));

  f.zoneinfo = false;
  auto tz = find(cli::judge_host(f, std::nullopt), "zoneinfo");
  CHECK(tz.status == check_status::missing);
  CHECK(tz.fix == "apt-get install tzdata");
  CHECK_FALSE(tz.needed);
}

TEST_CASE("doctor: the kernel's version decides pidfd and the fast spawn path, and systemd") {
  CHECK(cli::kernel_version("6.1.0-18-amd64") == std::pair{6, 1});
  CHECK(cli::kernel_version("5.15.0") == std::pair{5, 15});
  CHECK(cli::kernel_version("garbage") == std::pair{0, 0});
  auto f = hybrid_root();
  f.kernel = "5.4.0-150-generic";
  auto checks = cli::judge_host(f, std::nullopt);
  CHECK(find(checks, "pidfd").status == check_status::ok);
  CHECK(find(checks, "spawn.fast_path").status == check_status::degraded);
  CHECK(find(checks, "spawn.fast_path").fix == "upgrade to Linux 5.9 or later");
  CHECK(cli::doctor_exit_code(checks) == 0);
  f.kernel = "5.2.21";
  checks = cli::judge_host(f, std::nullopt);
  CHECK(find(checks, "pidfd").status == check_status::missing);
  CHECK(cli::doctor_exit_code(checks) == 1);

  auto no_systemd = hybrid_root();
  no_systemd.systemd_pid1 = false;
  no_systemd.systemd_analyze.clear();
  auto without = cli::judge_host(no_systemd, std::nullopt);
  CHECK_THAT(find(without, "systemd").detail, Contains("not systemd"));
  CHECK(find(without, "systemd-analyze").status == check_status::missing);
  CHECK(find(without, "systemd-analyze").fix == "apt-get install systemd");
  CHECK(cli::doctor_exit_code(without) == 0); // `arbor run` needs neither
}

TEST_CASE("doctor: the table aligns its columns, a fix below each check that is not ok") {
  auto f = hybrid_root();
  f.tcp_migrate_req = 0;
  auto checks = cli::judge_host(f, std::nullopt);
  auto text = cli::render_checks(checks);
  CHECK_THAT(text, Contains("\ntcp_migrate_req     degraded  0: a SO_REUSEPORT reload")
                     && Contains("socket\n    fix: sysctl -w net.ipv4.tcp_migrate_req=1"));
  CHECK(text.rfind("cgroup.version      ok        hybrid", 0) == 0);
  CHECK_THAT(text, Contains("14 ok, 1 degraded, 0 missing, 0 error: arbor can run here\n"));
  CHECK(text.find("fix:") == text.rfind("fix:")); // only under the one not ok

  auto j = cli::checks_json(checks);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == checks.size());
  CHECK(j[5]["check"] == "tcp_migrate_req");
  CHECK(j[5]["status"] == "degraded");
  CHECK(j[5]["fix"] == "sysctl -w net.ipv4.tcp_migrate_req=1 (or use `listen`)");
  CHECK(j[0]["fix"] == "");
  CHECK(j[0]["needed"] == false);
}
