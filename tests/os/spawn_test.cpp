#include <catch2/catch.hpp>

#include "os/spawn.hpp"
#include "util.hpp"

#include <cerrno>
#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;
using arbor::os::test::read_line;

namespace {

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const std::string child_bin = ARBOR_TEST_CHILD;

/// Waits (bounded) for our child `pid` to exit and reaps it through a pidfd.
/// Returns the waitid info; si_pid == 0 on timeout.
siginfo_t wait_exit(pid_t pid, int timeout_ms = 10000) {
  siginfo_t info{};
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return info;
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) == 1)
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED);
  close(fd);
  return info;
}

/// Kills and reaps a child (and its group) when the test leaves scope.
struct child_guard {
  pid_t pid = -1;
  explicit child_guard(pid_t p) : pid(p) {}
  ~child_guard() { finish(); }
  void finish() {
    if (pid <= 1)
      return;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    wait_exit(pid);
    pid = -1;
  }
};

/// Reads until EOF (or `timeout_ms` without data).
std::string read_all(int fd, int timeout_ms = 10000) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1)
      break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}


struct pipe_pair {
  int rd = -1;
  int wr = -1;
  pipe_pair() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    rd = fds[0];
    wr = fds[1];
  }
  ~pipe_pair() {
    close_write();
    if (rd >= 0)
      close(rd);
  }
  void close_write() {
    if (wr >= 0)
      close(wr);
    wr = -1;
  }
};

struct captured {
  std::string out;
  siginfo_t info{};
};

/// Runs `plan` to completion with stdout captured.
captured run_capture(const spawn_plan& plan) {
  pipe_pair p;
  auto res = plan.spawn(p.wr, -1);
  REQUIRE(res.ok());
  child_guard guard{res.pid};
  p.close_write();
  captured c;
  c.out = read_all(p.rd);
  c.info = wait_exit(res.pid);
  guard.pid = -1;
  return c;
}

std::vector<std::string> child_argv(std::vector<std::string> args) {
  args.insert(args.begin(), child_bin);
  return args;
}

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/arbor-os-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    char real[PATH_MAX];
    REQUIRE(realpath(tmpl, real) != nullptr);
    path = real;
  }
  ~temp_dir() {
    for (const auto& f : files)
      unlink(f.c_str());
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
      rmdir(it->c_str());
    rmdir(path.c_str());
  }
  std::string file(const std::string& name, mode_t mode) {
    std::string p = path + "/" + name;
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "#!/bin/sh\nexit 0\n", 17) == 17);
    close(fd);
    REQUIRE(chmod(p.c_str(), mode) == 0);
    files.push_back(p);
    return p;
  }
  std::string dir(const std::string& name) {
    std::string p = path + "/" + name;
    REQUIRE(mkdir(p.c_str(), 0755) == 0);
    dirs.push_back(p);
    return p;
  }
  std::vector<std::string> files;
  std::vector<std::string> dirs;
};

} // namespace

TEST_CASE("spawn: runs the program with its arguments", "[spawn]") {
  spawn_plan plan{child_bin, child_argv({"exit", "7"}), {}, ""};
  auto res = plan.spawn(-1, -1);
  REQUIRE(res.ok());
  CHECK(res.error == 0);
  CHECK(res.what.empty());
  auto info = wait_exit(res.pid);
  REQUIRE(info.si_pid == res.pid);
  CHECK(info.si_code == CLD_EXITED);
  CHECK(info.si_status == 7);

  SECTION("an argument with spaces stays one argument") {
    pipe_pair p;
    spawn_plan print{child_bin, child_argv({"print", "two words"}), {}, ""};
    auto r = print.spawn(p.wr, -1);
    REQUIRE(r.ok());
    child_guard guard{r.pid};
    CHECK(read_line(p.rd) == "two words");
  }
}

TEST_CASE("spawn: the plan is reusable for every restart", "[spawn]") {
  spawn_plan plan{child_bin, child_argv({"exit", "3"}), {}, ""};
  for (int i = 0; i < 5; ++i) {
    auto res = plan.spawn(-1, -1);
    REQUIRE(res.ok());
    auto info = wait_exit(res.pid);
    REQUIRE(info.si_pid == res.pid);
    CHECK(info.si_status == 3);
  }
}

TEST_CASE("spawn: the environment is passed exactly", "[spawn]") {
  spawn_plan plan{child_bin, child_argv({"env"}), {"A=1", "B=two words", "EMPTY="}, ""};
  auto c = run_capture(plan);
  CHECK(c.out == "A=1\nB=two words\nEMPTY=\n");
  CHECK(c.info.si_code == CLD_EXITED);
  CHECK(c.info.si_status == 0);

  SECTION("an empty environment stays empty") {
    spawn_plan none{child_bin, child_argv({"env"}), {}, ""};
    CHECK(run_capture(none).out.empty());
  }
}

TEST_CASE("spawn: a shared environment is held, not copied, and own entries replace its keys", "[spawn]") {
  auto shared = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"A=1", "PORT=80", "B=2"});
  spawn_plan p0{child_bin, child_argv({"env"}), shared, {"PORT=3000", "I=0"}, ""};
  spawn_plan p1{child_bin, child_argv({"env"}), shared, {"I=1"}, ""};
  CHECK(shared.use_count() == 3); // both plans hold the one vector
  CHECK(run_capture(p0).out == "A=1\nB=2\nPORT=3000\nI=0\n");
  CHECK(run_capture(p1).out == "A=1\nPORT=80\nB=2\nI=1\n");
}

TEST_CASE("spawn: the working directory is applied", "[spawn]") {
  temp_dir tmp;
  spawn_plan plan{child_bin, child_argv({"pwd"}), {}, tmp.path};
  auto c = run_capture(plan);
  CHECK(c.out == tmp.path + "\n");

  SECTION("an empty cwd inherits ours") {
    char here[PATH_MAX];
    REQUIRE(getcwd(here, sizeof here) != nullptr);
    spawn_plan inherit{child_bin, child_argv({"pwd"}), {}, ""};
    CHECK(run_capture(inherit).out == std::string(here) + "\n");
  }
}

TEST_CASE("spawn: a relative path is taken relative to cwd", "[spawn]") {
  // Copying is not needed: a symlink inside cwd is enough to prove where the
  // child looks for "./child".
  temp_dir tmp;
  std::string link = tmp.path + "/child";
  REQUIRE(symlink(child_bin.c_str(), link.c_str()) == 0);
  tmp.files.push_back(link);
  spawn_plan plan{"./child", {"./child", "pwd"}, {}, tmp.path};
  auto c = run_capture(plan);
  CHECK(c.out == tmp.path + "\n");
}

TEST_CASE("spawn: the child leads its own process group", "[spawn]") {
  spawn_plan plan{child_bin, child_argv({"pgid"}), {}, ""};
  pipe_pair p;
  auto res = plan.spawn(p.wr, -1);
  REQUIRE(res.ok());
  child_guard guard{res.pid};
  p.close_write();
  const auto id = std::to_string(res.pid);
  CHECK(read_all(p.rd) == "pid=" + id + " pgid=" + id + "\n");
  CHECK(getpgid(0) != res.pid);
}

TEST_CASE("spawn: empty signal mask and default dispositions in the child", "[spawn]") {
  // The parent blocks what arbor blocks and ignores SIGPIPE (and SIGUSR1).
  sigset_t block, old_mask;
  sigemptyset(&block);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD})
    sigaddset(&block, sig);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &block, &old_mask) == 0);
  struct sigaction ign {}, old_pipe{}, old_usr1{};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  REQUIRE(sigaction(SIGPIPE, &ign, &old_pipe) == 0);
  REQUIRE(sigaction(SIGUSR1, &ign, &old_usr1) == 0);

  spawn_plan plan{child_bin, child_argv({"sigstate"}), {}, ""};
  auto c = run_capture(plan);

  sigaction(SIGUSR1, &old_usr1, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  CHECK(c.out == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  CHECK(c.info.si_status == 0);
}

TEST_CASE("spawn: no descriptor beyond stdio leaks into the child", "[spawn]") {
  // Open descriptors without close-on-exec, as a careless library would.
  int leak1 = open("/dev/null", O_RDONLY);
  int leaky_pipe[2];
  REQUIRE(leak1 >= 3);
  REQUIRE(pipe(leaky_pipe) == 0);
  int high = fcntl(leak1, F_DUPFD, 200); // F_DUPFD does not set FD_CLOEXEC
  REQUIRE(high >= 200);

  spawn_plan plan{child_bin, child_argv({"fds"}), {}, ""};
  auto c = run_capture(plan);
  close(leak1);
  close(high);
  close(leaky_pipe[0]);
  close(leaky_pipe[1]);
  CHECK(c.out == "0 1 2\n");
}

TEST_CASE("spawn: stdout and stderr go to the given descriptors", "[spawn]") {
  pipe_pair out, err;
  spawn_plan plan{child_bin, child_argv({"print", "hello"}), {}, ""};
  auto res = plan.spawn(out.wr, err.wr);
  REQUIRE(res.ok());
  child_guard guard{res.pid};
  CHECK(read_line(out.rd) == "hello");
  CHECK(read_line(err.rd) == "err: hello");

  SECTION("stdin is /dev/null") {
    char path[64], target[PATH_MAX];
    std::snprintf(path, sizeof path, "/proc/%d/fd/0", res.pid);
    ssize_t n = readlink(path, target, sizeof target - 1);
    REQUIRE(n > 0);
    CHECK(std::string(target, static_cast<size_t>(n)) == "/dev/null");
  }
}

TEST_CASE("spawn: -1 sends stdout and stderr to /dev/null", "[spawn]") {
  spawn_plan plan{child_bin, child_argv({"print", "lost"}), {}, ""};
  auto res = plan.spawn(-1, -1);
  REQUIRE(res.ok());
  child_guard guard{res.pid};
  // The child is paused after printing; its stdio all point at /dev/null.
  // (readlink works as soon as posix_spawn has returned: exec happened.)
  for (int fd = 0; fd <= 2; ++fd) {
    char path[64], target[PATH_MAX];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%d", res.pid, fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    REQUIRE(n > 0);
    CHECK(std::string(target, static_cast<size_t>(n)) == "/dev/null");
  }
}

TEST_CASE("spawn: failures say what failed", "[spawn]") {
  temp_dir tmp;

  SECTION("missing executable") {
    spawn_plan plan{"/nonexistent/arbor-nope", {"arbor-nope"}, {}, ""};
    auto res = plan.spawn(-1, -1);
    CHECK_FALSE(res.ok());
    CHECK(res.error == ENOENT);
    CHECK(res.what == "cannot execute '/nonexistent/arbor-nope': No such file or directory");
  }
  SECTION("not executable") {
    auto file = tmp.file("plain", 0644);
    spawn_plan plan{file, {file}, {}, ""};
    auto res = plan.spawn(-1, -1);
    CHECK_FALSE(res.ok());
    CHECK(res.error == EACCES);
    CHECK(res.what == "cannot execute '" + file + "': Permission denied");
  }
  SECTION("missing cwd") {
    const std::string cwd = tmp.path + "/gone";
    spawn_plan plan{child_bin, child_argv({"exit", "0"}), {}, cwd};
    auto res = plan.spawn(-1, -1);
    CHECK_FALSE(res.ok());
    CHECK(res.error == ENOENT);
    CHECK(res.what == "cannot chdir to '" + cwd + "': No such file or directory");
  }
  SECTION("cwd is a file") {
    auto file = tmp.file("notadir", 0644);
    spawn_plan plan{child_bin, child_argv({"exit", "0"}), {}, file};
    auto res = plan.spawn(-1, -1);
    CHECK_FALSE(res.ok());
    CHECK(res.error == ENOTDIR);
    CHECK(res.what == "cannot chdir to '" + file + "': Not a directory");
  }
}

TEST_CASE("resolve_executable: names with '/' and PATH search", "[spawn]") {
  temp_dir tmp;
  const auto tool = tmp.file("mytool", 0755);
  tmp.file("plain", 0644);
  const auto bin = tmp.dir("bin");
  std::string err;

  SECTION("PATH search uses the given PATH, not ours") {
    CHECK(resolve_executable("mytool", "/nonexistent:" + tmp.path, "", err) == tool);
    CHECK(err.empty());
    // `sh` is on our PATH but not on the child's.
    CHECK(resolve_executable("sh", "/nonexistent", "", err).empty());
    CHECK(err == "command not found: 'sh' (PATH=/nonexistent)");
  }
  SECTION("the first match in PATH order wins") {
    temp_dir other;
    const auto second = other.file("mytool", 0755);
    CHECK(resolve_executable("mytool", other.path + ":" + tmp.path, "", err) == second);
    CHECK(resolve_executable("mytool", tmp.path + ":" + other.path, "", err) == tool);
  }
  SECTION("a directory or a non-executable file in PATH is skipped") {
    temp_dir other;
    const auto second = other.file("plain", 0755);
    REQUIRE(mkdir((other.path + "/mytool").c_str(), 0755) == 0);
    other.dirs.push_back(other.path + "/mytool");
    CHECK(resolve_executable("plain", tmp.path + ":" + other.path, "", err) == second);
    CHECK(resolve_executable("mytool", other.path + ":" + tmp.path, "", err) == tool);
  }
  SECTION("relative PATH entries are relative to the child's cwd") {
    CHECK(resolve_executable("mytool", "bin:.", tmp.path, err) == tmp.path + "/./mytool");
  }
  SECTION("relative name with '/' is relative to cwd") {
    CHECK(resolve_executable("./mytool", "", tmp.path, err) == tmp.path + "/./mytool");
    CHECK(err.empty());
    CHECK(resolve_executable("../mytool", "", bin, err) == bin + "/../mytool");
    CHECK(resolve_executable("./mytool", "", bin, err).empty());
    CHECK(err == "'" + bin + "/./mytool': No such file or directory");
  }
  SECTION("absolute name ignores PATH") {
    CHECK(resolve_executable(tool, "/nonexistent", "/", err) == tool);
  }
  SECTION("a directory") {
    CHECK(resolve_executable("/tmp", "", "", err).empty());
    CHECK(err == "'/tmp' is a directory");
  }
  SECTION("not executable") {
    CHECK(resolve_executable("/etc/passwd", "", "", err).empty());
    CHECK(err == "'/etc/passwd' is not executable");
    CHECK(resolve_executable("plain", tmp.path, "", err).empty());
    CHECK(err == "'" + tmp.path + "/plain' is not executable");
  }
  SECTION("not found") {
    CHECK(resolve_executable("nodee", "/usr/bin:/bin", "", err).empty());
    CHECK(err == "command not found: 'nodee' (PATH=/usr/bin:/bin)");
    CHECK(resolve_executable("/nonexistent/nodee", "", "", err).empty());
    CHECK(err == "'/nonexistent/nodee': No such file or directory");
    CHECK(resolve_executable("", "/bin", "", err).empty());
    CHECK(err == "empty command");
  }
  SECTION("the result runs") {
    auto path = resolve_executable(child_bin, "", "", err);
    REQUIRE(err.empty());
    spawn_plan plan{path, child_argv({"exit", "5"}), {}, ""};
    auto res = plan.spawn(-1, -1);
    REQUIRE(res.ok());
    CHECK(wait_exit(res.pid).si_status == 5);
  }
}

TEST_CASE("check_cwd", "[spawn]") {
  temp_dir tmp;
  const auto file = tmp.file("f", 0644);
  CHECK(check_cwd("").empty());
  CHECK(check_cwd(tmp.path).empty());
  CHECK(check_cwd("/nope-arbor") == "cwd '/nope-arbor': No such file or directory");
  CHECK(check_cwd(file) == "cwd '" + file + "': Not a directory");
}

TEST_CASE("merge_environment replaces in place and appends", "[spawn]") {
  const std::vector<std::string> base{"PATH=/bin", "HOME=/root", "A=1"};
  auto env = merge_environment(base, {{"HOME", "/home/x"}, {"NEW", "v"}, {"A", ""},
                                      {"NEW", "w=x"}});
  CHECK(env == std::vector<std::string>{"PATH=/bin", "HOME=/home/x", "A=", "NEW=w=x"});
  CHECK(merge_environment(base, {}) == base);
  CHECK(merge_environment({}, {{"K", "V"}}) == std::vector<std::string>{"K=V"});
}

TEST_CASE("current_environment reads environ", "[spawn]") {
  REQUIRE(setenv("ARBOR_OS_TEST_VAR", "x y", 1) == 0);
  auto env = current_environment();
  unsetenv("ARBOR_OS_TEST_VAR");
  CHECK(std::find(env.begin(), env.end(), "ARBOR_OS_TEST_VAR=x y") != env.end());
}

TEST_CASE("signal_group signals the whole group", "[spawn]") {
  spawn_plan plan{child_bin, child_argv({"sleep"}), {}, ""};
  auto res = plan.spawn(-1, -1);
  REQUIRE(res.ok());
  child_guard guard{res.pid};
  CHECK(signal_group(res.pid, SIGTERM) == 0);
  auto info = wait_exit(res.pid);
  REQUIRE(info.si_pid == res.pid);
  CHECK(info.si_code == CLD_KILLED);
  CHECK(info.si_status == SIGTERM);
  guard.pid = -1;
  CHECK(signal_group(res.pid, SIGTERM) == ESRCH);
  CHECK(signal_group(0, SIGTERM) == EINVAL);
  CHECK(signal_group(1, SIGTERM) == EINVAL);
  CHECK(signal_group(-5, SIGTERM) == EINVAL);
}
