// daemon.log rotates like an app log (src/daemon/daemon_log.hpp). Run in a
// forked child: the rotation moves the process's descriptors 1 and 2.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemon_log.hpp"
#include "log.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("daemon log: daemon.log rotates at max_size, keeping max_files files") {
  char tmpl[] = "/tmp/arbor-dlog-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl, path = dir + "/daemon.log";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || ::dup2(fd, 2) < 0) ::_exit(2);
    if (!arbor::detail::rotate_daemon_log(path, 4096, 3)) ::_exit(3);
    for (int i = 0; i < 1000; ++i) arbor::detail::log_info("line {} of the daemon's own log", i);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  for (auto f : {path, path + ".1", path + ".2"}) {
    INFO(f);
    REQUIRE(std::filesystem::exists(f));
    CHECK(std::filesystem::file_size(f) <= 4096);
  }
  CHECK_FALSE(std::filesystem::exists(path + ".3"));
  CHECK(slurp(path).find("line 999 of the daemon's own log") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("daemon log: nothing changes when stderr is not daemon.log") {
  char tmpl[] = "/tmp/arbor-dlog-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  { std::ofstream(dir + "/daemon.log") << "someone else's\n"; }
  CHECK_FALSE(arbor::detail::rotate_daemon_log(dir + "/daemon.log", 10, 2));
  std::filesystem::remove_all(dir);
}
