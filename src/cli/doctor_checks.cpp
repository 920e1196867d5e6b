#include "cli/doctor_checks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cli/commands.hpp"

namespace arbor::cli {

namespace {

using os::host_facts;

host_check ok(std::string check, std::string detail, bool needed = false) {
  return {std::move(check), check_status::ok, std::move(detail), {}, needed};
}

host_check not_ok(std::string check, check_status s, std::string detail, std::string fix,
                  bool needed = false) {
  return {std::move(check), s, std::move(detail), std::move(fix), needed};
}

/// A limit is not applied below this many instances' worth of descriptors.
constexpr uint64_t few_instances = 1000;
/// Logs and the journal are written to the home's filesystem.
constexpr uint64_t low_disk = 100ull << 20;

bool v1_somewhere(const os::cgroup_host& h) {
  return std::any_of(h.controllers.begin(), h.controllers.end(),
                     [](const os::cgroup_controller& c) { return !c.v2 && !c.dir.empty(); });
}

/// "memory, cpu, pids" of the controllers on v2 (or on v1).
std::string controller_list(const os::cgroup_host& h, bool v2) {
  std::string out;
  for (const auto& c : h.controllers)
    if (c.v2 == v2) out += (out.empty() ? "" : ", ") + c.name;
  return out.empty() ? "none" : out;
}

std::string keys_of(const std::string& controller) {
  if (controller == "memory") return "memory_max";
  if (controller == "cpu") return "cpu_max and cpu_weight";
  return controller + "_max";
}

/// How we get the right to make cgroups under our v2 cgroup.
std::string delegation_fix(const host_facts& f) {
  if (f.v2_child_errno == EROFS) return "mount -o remount,rw " + f.cgroups.v2_mount;
  return std::string{"run arbor under systemd with Delegate=yes (in the [Service] of the unit "
                     "`arbor startup` writes)"}
         + (f.euid == 0 ? "" : ", or as root");
}

const char* const fallback = "arbor falls back to a process group per instance "
                             "(a setsid() double fork escapes stop)";

host_check judge_cgroup_version(const host_facts& f) {
  const auto& h = f.cgroups;
  const std::string name = "cgroup.version";
  if (!h.v2_mount.empty() && !v1_somewhere(h))
    return ok(name, "v2: cgroup2 at " + h.v2_mount + ", controllers: " + controller_list(h, true));
  if (!h.v2_mount.empty())
    return ok(name, "hybrid: cgroup2 at " + h.v2_mount + ", controllers: "
                      + controller_list(h, true) + "; on v1: " + controller_list(h, false));
  if (v1_somewhere(h))
    return not_ok(name, check_status::degraded,
                  "v1 only: no cgroup2 mounted (on v1: " + controller_list(h, false) + ")",
                  "boot with systemd.unified_cgroup_hierarchy=1");
  return not_ok(name, check_status::missing, "no cgroup hierarchy mounted",
                "mount -t cgroup2 cgroup2 /sys/fs/cgroup");
}

host_check judge_containment(const host_facts& f) {
  const auto& h = f.cgroups;
  const std::string name = "cgroup.containment";
  if (h.v2_self.empty())
    return not_ok(name, check_status::degraded, std::string{"no cgroup2: "} + fallback,
                  "boot with systemd.unified_cgroup_hierarchy=1");
  if (f.v2_child_errno != 0)
    return not_ok(name, check_status::degraded,
                  "cannot create a cgroup under " + h.v2_self + " ("
                    + std::strerror(f.v2_child_errno) + "): " + fallback,
                  delegation_fix(f));
  if (!f.v2_kill)
    return not_ok(name, check_status::degraded,
                  "cgroups under " + h.v2_self + " have no cgroup.kill (Linux < 5.14): " + fallback,
                  "upgrade to Linux 5.14 or later");
  return ok(name, "a cgroup per run under " + h.v2_self
                    + "; stop ends with cgroup.kill: nothing escapes");
}

host_check judge_controller(const host_facts& f, const std::string& controller) {
  const auto& h = f.cgroups;
  const auto name = "cgroup." + controller;
  const auto keys = keys_of(controller);
  const auto* c = h.find(controller);
  if (c && c->v2) {
    if (f.v2_child_errno == 0 && f.v2_subtree_writable)
      return ok(name, "on v2: " + keys + " can be applied");
    return not_ok(name, check_status::degraded,
                  std::string{"on v2, but arbor "}
                    + (f.v2_child_errno != 0 ? "cannot create cgroups there"
                                             : "may not write " + h.v2_self
                                                 + "/cgroup.subtree_control")
                    + ": " + keys + " cannot be applied (an error at start)",
                  delegation_fix(f));
  }
  if (c) {
    int error = ENOENT;
    for (const auto& [ctl, e] : f.v1_child_errno)
      if (ctl == controller) error = e;
    if (error == 0) return ok(name, "on v1 at " + c->dir + ": " + keys + " can be applied");
    return not_ok(name, check_status::degraded,
                  "on v1 at " + c->dir + ", but arbor cannot create a cgroup there ("
                    + std::strerror(error) + "): " + keys + " cannot be applied (an error at start)",
                  error == EROFS ? "mount -o remount,rw " + c->dir
                  : f.euid == 0  ? "make " + c->dir + " writable for root"
                                 : "run arbor as root");
  }
  std::string fix = "boot with systemd.unified_cgroup_hierarchy=1";
  if (!h.v2_self.empty() && h.v2_self != h.v2_mount) {
    auto parent = h.v2_self.substr(0, h.v2_self.rfind('/'));
    fix = "echo +" + controller + " > " + parent + "/cgroup.subtree_control (under systemd: "
          + "Delegate=yes)";
  } else if (!h.v2_self.empty()) {
    fix = controller == "memory" ? "boot with cgroup_enable=memory"
                                 : "use a kernel built with the " + controller + " controller";
  }
  return not_ok(name, check_status::degraded,
                "no " + controller + " controller for us: " + keys
                  + " cannot be applied (an error at start)",
                fix);
}

host_check judge_tcp_migrate_req(const host_facts& f) {
  const std::string name = "tcp_migrate_req";
  if (f.tcp_migrate_req < 0)
    return not_ok(name, check_status::missing,
                  "no net.ipv4.tcp_migrate_req (Linux < 5.14): a SO_REUSEPORT reload may drop "
                  "the connections queued on the old run's socket",
                  "use `listen` (arbor holds the socket across reloads)");
  if (f.tcp_migrate_req == 0)
    return not_ok(name, check_status::degraded,
                  "0: a SO_REUSEPORT reload may drop the connections queued on the old run's "
                  "socket",
                  "sysctl -w net.ipv4.tcp_migrate_req=1 (or use `listen`)");
  return ok(name, std::to_string(f.tcp_migrate_req)
                    + ": a closing SO_REUSEPORT socket hands its queue to a live one");
}

std::string limit_text(uint64_t n) {
  return n == UINT64_MAX ? "unlimited" : std::to_string(n);
}

host_check judge_nofile(const host_facts& f) {
  const std::string name = "nofile";
  // What a plain app costs: a daemon started from here raises its soft
  // limit to our hard one (fd_budget.hpp).
  group_spec one;
  one.children.emplace_back();
  auto need = config::descriptors_needed(one);
  auto limits = "soft " + limit_text(f.nofile_soft) + ", hard " + limit_text(f.nofile_hard);
  if (f.nofile_hard == UINT64_MAX) return ok(name, limits + ": no descriptor limit for a daemon");
  uint64_t fit = f.nofile_hard > need.besides
                   ? (f.nofile_hard - need.besides) / need.for_instances
                   : 0;
  auto detail = limits + ": a daemon started here holds ~" + std::to_string(fit)
                + " instances (" + std::to_string(need.for_instances) + " descriptors each)";
  if (fit >= few_instances) return ok(name, detail);
  return not_ok(name, check_status::degraded, detail,
                "LimitNOFILE=65536 in the systemd unit, or `ulimit -Hn 65536` (as root) before "
                "`arbor up`");
}

host_check judge_config_fds(const host_facts& f, const config_budget& c) {
  const std::string name = "nofile.config";
  if (!c.load_error.empty())
    return not_ok(name, check_status::error, c.file + " does not load: " + c.load_error,
                  "arbor check " + c.file, true);
  auto refusal = config::fd_refusal(c.need, f.nofile_hard, "the hard RLIMIT_NOFILE");
  if (refusal.empty())
    return ok(name,
              c.file + ": " + std::to_string(c.need.instances) + " instances need ~"
                + std::to_string(c.need.total()) + " descriptors, within the hard limit "
                + limit_text(f.nofile_hard),
              true);
  return not_ok(name, check_status::error, c.file + ": " + refusal,
                "LimitNOFILE=" + std::to_string(c.need.total())
                  + " in the systemd unit, or `ulimit -Hn " + std::to_string(c.need.total())
                  + "` (as root) before `arbor up`",
                true);
}

host_check judge_home_dir(const host_facts& f) {
  const std::string name = "home";
  if (f.home_errno == ENOENT && f.home_creatable)
    return ok(name, f.home + " is not there yet: the first `arbor up` makes it (0700)", true);
  if (f.home_errno == ENOENT)
    return not_ok(name, check_status::error,
                  f.home + " is not there and cannot be made (its parent is not writable)",
                  "install -d -m 700 -o " + std::to_string(f.euid) + " " + f.home
                    + " (as root), or set ARBOR_HOME",
                  true);
  if (f.home_errno != 0)
    return not_ok(name, check_status::error,
                  "cannot stat " + f.home + ": " + std::strerror(f.home_errno),
                  "set ARBOR_HOME to a directory you own", true);
  auto problem = judge_home(f.home, f.home_stat, f.euid);
  if (!problem.what.empty())
    return not_ok(name, check_status::error, problem.what,
                  problem.fix.empty() ? "set ARBOR_HOME to a directory you own" : problem.fix,
                  true);
  if (!f.home_writable)
    return not_ok(name, check_status::error,
                  f.home + " is not writable by uid " + std::to_string(f.euid)
                    + ": the daemon cannot make its lock, socket and logs there",
                  "chown " + std::to_string(f.euid) + " " + f.home + " (as root), or set ARBOR_HOME",
                  true);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(f.home_stat.st_mode & 07777));
  return ok(name,
            f.home + ": owned by uid " + std::to_string(f.home_stat.st_uid) + ", mode " + mode,
            true);
}

host_check judge_disk(const host_facts& f) {
  const std::string name = "home.disk";
  if (f.home_free == UINT64_MAX) return ok(name, "free space on " + f.home + " unknown");
  auto detail = std::to_string(f.home_free >> 20) + " MiB free where " + f.home
                + " is (logs and the journal go there)";
  if (f.home_free >= low_disk) return ok(name, detail);
  return not_ok(name, check_status::degraded, detail,
                "free space there, or set ARBOR_HOME to a roomier filesystem");
}

host_check judge_systemd(const host_facts& f) {
  if (f.systemd_pid1)
    return ok("systemd", "pid 1 is systemd: `arbor startup --install` units run at boot");
  return not_ok("systemd", check_status::missing,
                "pid 1 is not systemd (no /run/systemd/system): `arbor startup` writes a unit "
                "nothing here runs",
                "start arbor from this host's init or entrypoint (`arbor run` in the foreground)");
}

host_check judge_systemd_analyze(const host_facts& f) {
  if (!f.systemd_analyze.empty())
    return ok("systemd-analyze", f.systemd_analyze + ": `systemd-analyze verify` checks units");
  return not_ok("systemd-analyze", check_status::missing,
                "not in PATH: the unit `arbor startup` writes cannot be verified here",
                "apt-get install systemd");
}

void judge_kernel(const host_facts& f, std::vector<host_check>& out) {
  auto v = kernel_version(f.kernel);
  auto kernel = "Linux " + f.kernel;
  if (v == std::pair{0, 0}) {
    out.push_back(not_ok("pidfd", check_status::degraded,
                         "cannot tell the kernel's version from '" + f.kernel + "'",
                         "Linux 5.3 or later", true));
  } else if (v < std::pair{5, 3}) {
    out.push_back(not_ok("pidfd", check_status::missing,
                         kernel + " has no pidfd_open (5.3): arbor cannot watch its children",
                         "upgrade to Linux 5.3 or later", true));
  } else {
    out.push_back(ok("pidfd", kernel + ": pidfd_open, which the exit watcher needs", true));
  }
  const std::string fast = "spawn.fast_path";
  const char* slow = "each spawn copies the daemon's descriptor table (posix_spawn) and `listen` "
                     "is refused";
  if (!f.clone_arch)
    out.push_back(not_ok(fast, check_status::degraded,
                         std::string{"built for a CPU other than x86_64 or aarch64: "} + slow,
                         "run arbor on x86_64 or aarch64"));
  else if (v < std::pair{5, 9})
    out.push_back(not_ok(fast, check_status::degraded,
                         kernel + " has no close_range(CLOSE_RANGE_UNSHARE) (5.9): " + slow,
                         "upgrade to Linux 5.9 or later"));
  else
    out.push_back(ok(fast, "clone + close_range(CLOSE_RANGE_UNSHARE): a spawn copies no "
                           "descriptor table"));
}

host_check judge_root(const host_facts& f) {
  if (f.euid == 0) return ok("root", "running as root: the user and group keys can be used");
  return not_ok("root", check_status::degraded,
                "running as uid " + std::to_string(f.euid) + ": the user and group keys are refused",
                "run arbor as root to use them (sudo arbor up)");
}

} // namespace

const char* to_string(check_status s) {
  switch (s) {
    case check_status::ok: return "ok";
    case check_status::degraded: return "degraded";
    case check_status::missing: return "missing";
    case check_status::error: return "error";
  }
  return "?";
}

std::pair<int, int> kernel_version(const std::string& release) {
  int major = 0, minor = 0;
  char dot = 0;
  if (std::sscanf(release.c_str(), "%d%c%d", &major, &dot, &minor) != 3 || dot != '.') return {0, 0};
  return {major, minor};
}

std::vector<host_check> judge_host(const host_facts& f, const std::optional<config_budget>& config) {
  std::vector<host_check> out;
  out.push_back(judge_cgroup_version(f));
  out.push_back(judge_containment(f));
  for (const char* c : {"memory", "cpu", "pids"}) out.push_back(judge_controller(f, c));
  out.push_back(judge_tcp_migrate_req(f));
  out.push_back(judge_nofile(f));
  if (config) out.push_back(judge_config_fds(f, *config));
  out.push_back(ok("zoneinfo", "/usr/share/zoneinfo: cron_tz zones load"));
  if (!f.zoneinfo)
    out.back() = not_ok("zoneinfo", check_status::missing,
                        "no /usr/share/zoneinfo: a cron_tz other than UTC is refused",
                        "apt-get install tzdata");
  out.push_back(judge_home_dir(f));
  out.push_back(judge_disk(f));
  out.push_back(judge_systemd(f));
  out.push_back(judge_systemd_analyze(f));
  judge_kernel(f, out);
  out.push_back(judge_root(f));
  return out;
}

int doctor_exit_code(const std::vector<host_check>& checks) {
  for (const auto& c : checks)
    if (c.needed && (c.status == check_status::missing || c.status == check_status::error))
      return 1;
  return 0;
}

std::string render_checks(const std::vector<host_check>& checks) {
  size_t width = 0;
  int counts[4] = {};
  for (const auto& c : checks) {
    width = std::max(width, c.check.size());
    ++counts[static_cast<int>(c.status)];
  }
  std::string out;
  for (const auto& c : checks) {
    std::string status = to_string(c.status);
    out += c.check + std::string(width + 2 - c.check.size(), ' ') + status
           + std::string(10 - status.size(), ' ') + c.detail + "\n";
    if (c.status != check_status::ok && !c.fix.empty()) out += "    fix: " + c.fix + "\n";
  }
  out += std::to_string(counts[0]) + " ok, " + std::to_string(counts[1]) + " degraded, "
         + std::to_string(counts[2]) + " missing, " + std::to_string(counts[3]) + " error";
  out += doctor_exit_code(checks) == 0 ? ": arbor can run here\n"
                                       : ": arbor cannot run here until the needed checks pass\n";
  return out;
}

nlohmann::json checks_json(const std::vector<host_check>& checks) {
  auto out = nlohmann::json::array();
  for (const auto& c : checks)
    out.push_back({{"check", c.check},
                   {"status", to_string(c.status)},
                   {"detail", c.detail},
                   {"fix", c.fix},
                   {"needed", c.needed}});
  return out;
}

} // namespace arbor::cli
