#include <catch2/catch.hpp>

#include "os/crash_report.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::os;

namespace {

/// Runs `die` in a forked child with the crash report installed and its
/// stderr on a pipe; returns the wait status and what it wrote.
std::pair<int, std::string> crash_child(void (*die)()) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(p[1], STDERR_FILENO);
    ::close(p[0]);
    ::close(p[1]);
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none); // no core file from a test
    install_crash_report();
    die();
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return {status, out};
}

} // namespace

TEST_CASE("crash report: a fatal signal is named with a backtrace, then kills as before") {
  auto [status, out] = crash_child([] { ::raise(SIGSEGV); });
  INFO(out);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
  CHECK(out.find("arbor: fatal signal SIGSEGV in thread ") != std::string::npos);
  CHECK(out.find("backtrace:\n") != std::string::npos);
  size_t frames = 0; // backtrace_symbols_fd: "binary(+0x...)[0x...]" per frame
  for (size_t at = 0; (at = out.find(")[0x", at)) != std::string::npos; ++at) ++frames;
  CHECK(frames >= 3);
}

TEST_CASE("crash report: abort() is reported and still ends in SIGABRT") {
  auto [status, out] = crash_child([] { std::abort(); });
  INFO(out);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(out.find("arbor: fatal signal SIGABRT") != std::string::npos);
}
