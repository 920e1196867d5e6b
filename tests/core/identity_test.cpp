// `user`, `group`, `umask`, `rlimits`, `nice`, `oom_score_adj` end to end:
// what the kernel says of the running process (/proc), what `status --json`
// says of it, a step the kernel refuses, and a non-root arbor refusing to
// run an app as someone else.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

constexpr uid_t nobody = 65534;

std::string proc_file(int pid, const std::string& name) {
  return slurp("/proc/" + std::to_string(pid) + "/" + name);
}

/// The line of /proc/<pid>/`file` that starts with `key`, "" if none.
std::string proc_line(int pid, const std::string& file, const std::string& key) {
  std::istringstream in(proc_file(pid, file));
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return line;
  return {};
}

/// Field 19 of /proc/<pid>/stat: the nice value.
int nice_of(int pid) {
  auto stat = proc_file(pid, "stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 19; ++i) in >> field;
  return std::stoi(field);
}

bool is_root() {
  if (::geteuid() == 0) return true;
  WARN("skipped: needs root to run an app as another user");
  return false;
}

} // namespace

TEST_CASE("identity: rlimits, nice, oom_score_adj and umask are what the process runs with") {
  harness h{"[limited]\nargs = " + child_args({"sleep"})
            + "\numask = \"0077\"\nnice = 7\noom_score_adj = 333\n"
              "rlimits = { nofile = { soft = 1000, hard = 2000 }, core = 0 }\n"};
  h.start();
  const int pid = h.wait(event_kind::child_started, "limited#0").pid;
  REQUIRE(pid > 0);
  CHECK(proc_line(pid, "limits", "Max open files")
        == "Max open files            1000                 2000                 files     ");
  CHECK(proc_line(pid, "limits", "Max core file size")
        == "Max core file size        0                    0                    bytes     ");
  CHECK(nice_of(pid) == 7);
  CHECK(proc_file(pid, "oom_score_adj") == "333\n");
  CHECK(proc_line(pid, "status", "Umask:") == "Umask:\t0077");
  auto st = h.instance("limited#0");
  CHECK(st.uid == ::getuid());
  CHECK(st.gid == ::getgid());
}

TEST_CASE("identity: a step the kernel refuses fails the spawn, saying which") {
  if (!is_root()) return;
  // Past fs.nr_open no process may have a descriptor limit, root or not.
  const auto nr_open = std::stoull(slurp("/proc/sys/fs/nr_open"));
  harness h{"[greedy]\nargs = " + child_args({"sleep"}) + "\nrlimits = { nofile = "
            + std::to_string(nr_open + 1) + " }\n"};
  h.start();
  auto f = h.wait(event_kind::spawn_failed, "greedy#0");
  CHECK(f.reason.find("cannot set rlimit nofile: Operation not permitted") != std::string::npos);
  CHECK(h.count(event_kind::child_started) == 0);
}

TEST_CASE("identity: user = \"nobody\" runs as uid 65534 with its passwd environment") {
  if (!is_root()) return;
  temp_dir d;
  REQUIRE(::chmod(d.path.c_str(), 0755) == 0); // nobody may reach `open`, not the home
  const std::string home = d.file("home"), open = d.file("open");
  daemon_guard guard{home};
  REQUIRE(::mkdir(open.c_str(), 0777) == 0);
  REQUIRE(::chmod(open.c_str(), 0777) == 0);
  const passwd* pw = ::getpwnam("nobody");
  REQUIRE(pw);
  const std::string nobody_home = pw->pw_dir;
  // The app reports what it could do, then stays up.
  up_with(home, d.file("arbor.toml"),
          "[who]\nshell = true\nuser = \"nobody\"\numask = \"027\"\ncommand = '''"
          "if touch \"$ARBOR_HOME/by-nobody\" 2>/dev/null; then echo home-written; "
          "else echo home-refused; fi; touch " + open + "/made; "
          "echo \"env HOME=$HOME USER=$USER LOGNAME=$LOGNAME\"; exec sleep 600'''\n");
  const std::string log = home + "/logs/who.out.log";
  REQUIRE(eventually([&] { return slurp(log).find("env ") != std::string::npos; }));
  auto out = slurp(log);
  CHECK(out.find("who#0 | home-refused\n") != std::string::npos);
  CHECK(out.find("who#0 | env HOME=" + nobody_home + " USER=nobody LOGNAME=nobody\n")
        != std::string::npos);
  struct stat st {};
  CHECK(::stat((home + "/by-nobody").c_str(), &st) != 0);
  REQUIRE(::stat((open + "/made").c_str(), &st) == 0);
  CHECK(st.st_uid == nobody);
  CHECK(st.st_gid == pw->pw_gid);
  CHECK((st.st_mode & 0777) == 0640); // 0666 under umask 027

  auto x = instance_of(home, "who#0");
  REQUIRE(x.is_object());
  CHECK(x["uid"] == nobody);
  CHECK(x["gid"] == pw->pw_gid);
  const int pid = x.value("pid", 0);
  REQUIRE(pid > 0);
  auto id = std::to_string(nobody);
  CHECK(proc_line(pid, "status", "Uid:") == "Uid:\t" + id + "\t" + id + "\t" + id + "\t" + id);
  CHECK(proc_line(pid, "status", "Groups:").find("Groups:\t" + std::to_string(pw->pw_gid))
        == 0);
  auto show = run_arbor({"show", "who"}, home);
  CHECK(show.out.find("runs as uid 65534, gid " + std::to_string(pw->pw_gid) + "\n")
        != std::string::npos);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("identity: a non-root arbor refuses another user, and takes its own") {
  if (!is_root()) return;
  temp_dir d;
  REQUIRE(::chmod(d.path.c_str(), 0755) == 0);
  const std::string mine = d.file("nobody");
  REQUIRE(::mkdir(mine.c_str(), 0700) == 0);
  REQUIRE(::chown(mine.c_str(), nobody, nobody) == 0);
  // The binary where nobody can run it (the build tree may sit under /root).
  const std::string bin = mine + "/arbor";
  {
    std::ifstream from(ARBOR_BIN, std::ios::binary);
    std::ofstream to(bin, std::ios::binary);
    to << from.rdbuf();
  }
  REQUIRE(::chmod(bin.c_str(), 0755) == 0);
  const std::string cfg = mine + "/arbor.toml", theirs = mine + "/theirs.toml";
  std::ofstream(cfg) << "[own]\ncommand = \"sleep 600\"\nuser = \"nobody\"\n";
  std::ofstream(theirs) << "[web]\ncommand = \"sleep 600\"\nuser = \"root\"\n";
  auto as_nobody = [&](const std::string& verb, const std::string& file) {
    return run_program({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, verb,
                        file},
                       {"ARBOR_HOME=" + mine + "/home", "NO_COLOR=1"}, d.file("scratch"));
  };
  const std::string refusal = theirs + ":3:8: user = \"root\": arbor runs as uid 65534, not root; "
                              "only root can run an app as another user";
  for (const char* verb : {"check", "up"}) {
    auto r = as_nobody(verb, theirs);
    INFO(verb << ": " << r.err);
    CHECK(r.rc != 0);
    CHECK(r.err.find(refusal) != std::string::npos);
  }
  auto own = as_nobody("check", cfg);
  INFO(own.err);
  CHECK(own.rc == 0);
  const std::string eager = mine + "/eager.toml";
  std::ofstream(eager) << "[web]\ncommand = \"sleep 600\"\nnice = -20\n";
  const int own_nice = ::getpriority(PRIO_PROCESS, 0); // what the nobody arbor inherits
  REQUIRE(own_nice > -20);
  auto lower = as_nobody("check", eager);
  INFO(lower.err);
  CHECK(lower.rc != 0);
  CHECK(lower.err.find(eager + ":3:8: nice = -20: arbor runs as uid 65534, not root; it runs at "
                               "nice " + std::to_string(own_nice)
                               + " and only root can lower an app's below that")
        != std::string::npos);
}

TEST_CASE("identity: check reports bad values at file:line:col") {
  temp_dir d;
  const std::string cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[web]\ncommand = \"sleep 1\"\nuser = \"no-such-user-here\"\nnice = 40\n"
                        "umask = \"999\"\nrlimits = { bogus = 1 }\n";
  auto r = run_arbor({"check", cfg}, d.file("home"));
  CHECK(r.rc != 0);
  for (const char* e :
       {":3:8: 'user': no such user 'no-such-user-here'", ":4:8: 'nice' must be between -20 and 19, got 40",
        ":5:9: 'umask' must be an octal mode in a string like \"027\" or \"0027\", got '999'",
        ":6:13: unknown limit 'bogus' in 'rlimits' of app 'web'"})
    CHECK(r.err.find(cfg + e) != std::string::npos);
}
