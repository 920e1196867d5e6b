// The `arbor` binary: `run` in the foreground stops everything on SIGTERM and
// exits 0; a bad config starts nothing; `check` prints the tree or errors.

#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

struct child_proc {
  pid_t pid = -1;
  int pidfd = -1;
};

/// Runs the arbor binary with ARBOR_HOME set to `home` (each test its own:
/// one arbor per home is enforced with a lock).
child_proc spawn_arbor(const std::vector<std::string>& args, const std::string& out,
                       const std::string& err, const std::string& home) {
  std::vector<char*> argv;
  std::string bin = ARBOR_BIN;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  child_proc c;
  std::vector<std::string> env{"ARBOR_HOME=" + home};
  for (char** e = environ; *e; ++e)
    if (std::string{*e}.rfind("ARBOR_HOME=", 0) != 0) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&c.pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0));
  REQUIRE(c.pidfd >= 0);
  return c;
}

/// Waits for the process to exit; returns its wait status, or -1 on timeout
/// (then it is killed).
int wait_exit(child_proc& c, std::chrono::milliseconds timeout) {
  pollfd p{c.pidfd, POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n <= 0) ::kill(c.pid, SIGKILL);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  ::close(c.pidfd);
  return n <= 0 ? -1 : status;
}

/// Waits until `path` holds `n` matches of `re`; returns the pids they capture.
std::vector<int> wait_pids(const std::string& path, const std::regex& re, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto text = slurp(path);
    std::vector<int> pids;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
         it != std::sregex_iterator(); ++it)
      pids.push_back(std::stoi((*it)[1]));
    if (pids.size() >= n || std::chrono::steady_clock::now() > deadline) return pids;
    std::this_thread::sleep_for(10ms); // the log file is another process's output
  }
}

} // namespace

TEST_CASE("arbor run: SIGTERM stops the whole tree, grandchildren included, and exits 0") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  auto gpidfile = d.file("g.pid");
  {
    std::ofstream(cfg) << "[web.api]\nargs = " << child_args({"sleep"})
                       << "\ninstances = 2\n[web.forker]\nargs = "
                       << child_args({"grandchild", gpidfile})
                       << "\n[stubborn]\nargs = " << child_args({"ignore-term"})
                       << "\nkill_timeout = 200\n";
  }
  auto c = spawn_arbor({"run", cfg, "--log-dir", d.file("logs")}, d.file("out"), d.file("err"), d.path.string());
  auto pids = wait_pids(d.file("err"), std::regex{"event=child_started offender=\\S+ pid=(\\d+)"}, 4);
  REQUIRE(pids.size() == 4);
  auto gpid = std::stoi(wait_file(gpidfile));
  REQUIRE(wait_file(d.file("logs/stubborn.out.log")) == "stubborn#0 | ready");
  REQUIRE(::kill(c.pid, SIGTERM) == 0);
  int status = wait_exit(c, 30s);
  INFO(slurp(d.file("err")));
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int pid : pids) CHECK(wait_gone(pid, 1s));
  CHECK(wait_gone(gpid, 1s));
  auto err = slurp(d.file("err"));
  CHECK(err.find("event=shutdown reason=SIGTERM") != std::string::npos);
  CHECK(err.find("event=killed") != std::string::npos); // the stubborn one
}

TEST_CASE("arbor run: SIGINT stops the tree too") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  { std::ofstream(cfg) << "[a]\nargs = " << child_args({"sleep"}) << "\n"; }
  auto c = spawn_arbor({"run", cfg, "--log-dir", d.file("logs")}, d.file("out"), d.file("err"), d.path.string());
  auto pids = wait_pids(d.file("err"), std::regex{"event=child_started offender=\\S+ pid=(\\d+)"}, 1);
  REQUIRE(pids.size() == 1);
  ::kill(c.pid, SIGINT);
  int status = wait_exit(c, 30s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(wait_gone(pids[0], 1s));
}

TEST_CASE("arbor run: a config with errors reports them all with file:line:col and starts nothing") {
  temp_dir d;
  auto cfg = d.file("bad.toml");
  auto marker = d.file("started.pid");
  {
    std::ofstream(cfg) << "[ok]\nargs = " << child_args({"grandchild", marker, "exit"})
                       << "\n[bad]\ncommand = \"x\"\nrestat = \"always\"\ninstances = 0\n";
  }
  auto c = spawn_arbor({"run", cfg, "--log-dir", d.file("logs")}, d.file("out"), d.file("err"), d.path.string());
  int status = wait_exit(c, 30s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  auto err = slurp(d.file("err"));
  CHECK(err.find(cfg + ":5:") != std::string::npos);
  CHECK(err.find("did you mean 'restart'") != std::string::npos);
  CHECK(err.find(cfg + ":6:") != std::string::npos);
  CHECK(err.find("nothing started") != std::string::npos);
  CHECK_FALSE(std::ifstream(marker).good());
}

TEST_CASE("arbor check: prints the tree of a valid config, errors for a bad one") {
  temp_dir d;
  auto good = d.file("good.toml");
  { std::ofstream(good) << "[web.api]\ncommand = \"node server.js\"\ninstances = 2\n[migrate]\ncommand = \"true\"\nrestart = \"never\"\n"; }
  auto c = spawn_arbor({"check", good}, d.file("out"), d.file("err"), d.path.string());
  int status = wait_exit(c, 30s);
  CHECK(WEXITSTATUS(status) == 0);
  auto out = slurp(d.file("out"));
  CHECK(out.find("web.api") != std::string::npos);
  CHECK(out.find("migrate") != std::string::npos);
  CHECK(out.find("web") < out.find("migrate"));

  auto bad = d.file("bad.toml");
  { std::ofstream(bad) << "[x]\ncommand = \"a\"\nmax_restarts = \"lots\"\n"; }
  auto c2 = spawn_arbor({"check", bad}, d.file("out2"), d.file("err2"), d.path.string());
  status = wait_exit(c2, 30s);
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(slurp(d.file("err2")).find(bad + ":3:") != std::string::npos);
}

TEST_CASE("arbor run: the root supervisor giving up exits non-zero") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  { std::ofstream(cfg) << "intensity = 1\nperiod = 60\n[boom]\nargs = " << child_args({"exit", "1"}) << "\n"; }
  auto c = spawn_arbor({"run", cfg, "--log-dir", d.file("logs")}, d.file("out"), d.file("err"), d.path.string());
  int status = wait_exit(c, 30s);
  INFO(slurp(d.file("err")));
  REQUIRE(status != -1);
  INFO("killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(slurp(d.file("err")).find("root supervisor exceeded its intensity") != std::string::npos);
}

TEST_CASE("arbor: usage errors exit 1 as the README promises, help exits 0") {
  temp_dir d;
  auto home = d.path.string();
  for (std::vector<std::string> args :
       {std::vector<std::string>{"bogus"}, {"signal", "BOGUS", "api"}, {"scale", "api", "-1"},
        {"status", "--jsonx"}, {"stop"}, {"events", "-n", "abc"}, {"help", "bogus"}}) {
    auto r = run_arbor(args, home);
    INFO(args.front() << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err);
    CHECK(r.rc == 1);
    CHECK_FALSE(r.err.empty());
    CHECK(r.err.size() < 300); // a message, not a 309-digit range
  }
  auto bogus = run_arbor({"bogus"}, home);
  CHECK(bogus.err.find("unknown verb 'bogus'") != std::string::npos);
  auto events = run_arbor({"events", "-n", "abc"}, home);
  CHECK(events.err.find("-n must be a non-negative integer, got 'abc'") != std::string::npos);

  auto help = run_arbor({"help"}, home);
  CHECK(help.rc == 0);
  CHECK(help.out.find("Usage:") != std::string::npos);
  CHECK(help.out.find("status") != std::string::npos);
  auto verb = run_arbor({"help", "stop"}, home);
  CHECK(verb.rc == 0);
  CHECK(verb.out.find("kill_timeout") != std::string::npos);
  CHECK(run_arbor({"--help"}, home).rc == 0);
  CHECK(run_arbor({"--version"}, home).rc == 0);
}

TEST_CASE("arbor startup: the unit carries the PATH arbor startup ran with") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  { std::ofstream(cfg) << "[api]\ncommand = \"node server.js\"\n"; }
  auto r = run_arbor({"startup", cfg}, d.path.string());
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const char* path = std::getenv("PATH");
  REQUIRE(path != nullptr);
  CHECK(("\n" + r.out).find(std::string{"\nEnvironment=PATH="} + path + "\n") != std::string::npos);
}

TEST_CASE("arbor check: a command that is not there now is a warning, not an error") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  { std::ofstream(cfg) << "[api]\ncommand = \"no-such-command-arbor-test\"\n"; }
  auto r = run_arbor({"check", cfg}, d.path.string());
  CHECK(r.rc == 0);
  CHECK(r.out.find("api") != std::string::npos);
  CHECK(r.err.find(cfg + ": warning: api: ") != std::string::npos);
  CHECK(r.err.find("no-such-command-arbor-test") != std::string::npos);
}

TEST_CASE("arbor up: an ARBOR_HOME others may write, or another user owns, is refused with the fix, "
          "a missing one is created 0700") {
  temp_dir dir;
  std::string cfg = dir.file("arbor.toml");
  std::ofstream(cfg) << "[a]\nargs = " << child_args({"sleep"}) << "\n";

  std::string open_home = dir.file("open");
  REQUIRE(::mkdir(open_home.c_str(), 0700) == 0);
  REQUIRE(::chmod(open_home.c_str(), 0777) == 0);
  auto r = run_arbor({"up", cfg}, open_home, 30s);
  CHECK(r.rc != 0);
  CHECK(r.err.find("refusing ARBOR_HOME " + open_home + ": owned by uid "
                   + std::to_string(::geteuid()) + " with mode 0777")
        != std::string::npos);
  CHECK(r.err.find("chmod 700 " + open_home) != std::string::npos);
  CHECK(daemon_pid(open_home) == 0);

  if (::geteuid() == 0) {
    std::string theirs = dir.file("theirs");
    REQUIRE(::mkdir(theirs.c_str(), 0700) == 0);
    REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
    auto t = run_arbor({"up", cfg}, theirs, 30s);
    CHECK(t.rc != 0);
    CHECK(t.err.find("refusing ARBOR_HOME " + theirs + ": owned by uid 65534") != std::string::npos);
  }

  // Not through run_arbor: it would make the home itself.
  std::string fresh = dir.file("fresh/home");
  auto up = spawn_arbor({"up", cfg}, dir.file("up.out"), dir.file("up.err"), fresh);
  int status = wait_exit(up, 30s);
  INFO(slurp(dir.file("up.err")));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  struct stat st {};
  REQUIRE(::stat(fresh.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(run_arbor({"down"}, fresh, 30s).rc == 0);
}

TEST_CASE("arbor run: every app's lines on stdout and stderr too, prefixed and in order per app, and "
          "--no-attach keeps them in the files only") {
  temp_dir d;
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[a]\nargs = " << child_args({"tick", "2"}) << "\n[b]\nargs = "
                     << child_args({"tick", "3"}) << "\n[c]\nargs = "
                     << child_args({"print", "hello"}) << "\n";
  auto home = d.file("home");
  auto c = spawn_arbor({"run", cfg}, d.file("out"), d.file("err"), home);
  REQUIRE(eventually([&] {
    return check_ticks(d.file("out"), "a#0 | ").lines >= 50
           && check_ticks(d.file("out"), "b#0 | ").lines >= 50
           && slurp(d.file("out")).find("c#0 | hello\n") != std::string::npos;
  }));
  REQUIRE(eventually([&] { return slurp(d.file("err")).find("c#0 | err: hello\n") != std::string::npos; }));
  REQUIRE(::kill(c.pid, SIGTERM) == 0);
  REQUIRE(wait_exit(c, 30s) == 0);
  for (const char* prefix : {"a#0 | ", "b#0 | "}) {
    auto t = check_ticks(d.file("out"), prefix);
    INFO(prefix << " " << t.first_gap);
    CHECK(t.first_gap.empty());
    CHECK(t.broken == 0);
    // Every line the file got, stdout got: the same count per app.
    CHECK(t.lines == check_ticks(home + "/logs/" + std::string{prefix}.substr(0, 1) + ".out.log",
                                 prefix).lines);
  }
  CHECK(slurp(d.file("out")).find("err: hello") == std::string::npos); // stderr stays on stderr

  // No daemon now: `arbor logs` reads the files, a header for each.
  auto logs = run_arbor({"logs", "-n", "1"}, home);
  INFO(logs.out << logs.err);
  CHECK(logs.rc == 0);
  CHECK_THAT(logs.err, Catch::Contains("no daemon running"));
  CHECK_THAT(logs.out, Catch::Contains("==> " + home + "/logs/c.err.log <==\nc#0 | err: hello\n"));
  CHECK_THAT(logs.out, Catch::Contains("==> " + home + "/logs/c.out.log <==\nc#0 | hello\n"));
  auto one = run_arbor({"logs", "c", "--out"}, home);
  CHECK(one.out == "c#0 | hello\n");
  CHECK(run_arbor({"logs", "nope"}, home).rc == 1);

  const long before = check_ticks(home + "/logs/a.out.log", "a#0 | ").lines;
  auto quiet = spawn_arbor({"run", cfg, "--no-attach"}, d.file("out2"), d.file("err2"), home);
  REQUIRE(eventually(
    [&] { return check_ticks(home + "/logs/a.out.log", "a#0 | ").lines >= before + 50; }));
  REQUIRE(::kill(quiet.pid, SIGTERM) == 0);
  REQUIRE(wait_exit(quiet, 30s) == 0);
  CHECK(slurp(d.file("out2")).empty());
  CHECK(slurp(d.file("err2")).find(" | ") == std::string::npos);
}
