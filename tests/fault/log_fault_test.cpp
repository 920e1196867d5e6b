// The log directory failing under a running daemon: the disk is full
// (the log file is a /dev/full node: every write fails with ENOSPC), or the
// directory turns into a file (ENOTDIR). Tests run as root, so permissions
// cannot deny a write. The app keeps running and keeps making progress (the
// pump drains its pipe and drops the bytes), the loss is reported, nothing
// crashes, and logging resumes once the cause is gone.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "fault_util.hpp"

using namespace arbor::test;

namespace {

/// An app writing ~1 KiB lines as fast as it can, appending a byte per line
/// to `counter` (outside the log dir): its progress, whatever its log does.
/// (Appending, not rewriting: ext4 flushes a truncated file on close.)
std::string chatty(const std::string& counter) {
  const std::string pad(1000, 'x');
  return "[chatty]\nshell = true\ncommand = 'while :; do echo \"line " + pad + "\"; echo >> "
         + counter + "; done'\n";
}

long lines_written(const std::string& counter) {
  std::error_code ec;
  auto n = std::filesystem::file_size(counter, ec);
  return ec ? 0 : static_cast<long>(n);
}

/// Waits until the app wrote `n` more lines than now: far more than a pipe
/// (64 KiB) holds, so it is not blocked on its stdout.
bool keeps_writing(const std::string& counter, long n) {
  long from = lines_written(counter);
  return wait_until([&] { return lines_written(counter) >= from + n; });
}

struct snapshot {
  int daemon = 0, chatty = 0, calm = 0;
  bool operator==(const snapshot& o) const {
    return daemon == o.daemon && chatty == o.chatty && calm == o.calm;
  }
};

snapshot pids(const fault_daemon& fd) {
  std::ifstream in(fd.home + "/arbor.pid");
  snapshot s;
  in >> s.daemon;
  s.chatty = fd.instance("chatty#0")["pid"].get<int>();
  s.calm = fd.instance("calm#0")["pid"].get<int>();
  return s;
}

} // namespace

TEST_CASE("fault: disk full (ENOSPC) on the log file: the app runs on, the loss is reported, "
          "logging resumes") {
  fault_daemon fd;
  auto counter = fd.file("count");
  auto live = fd.home + "/logs/chatty.out.log";
  std::filesystem::create_directories(fd.home + "/logs");
  // /dev/full's own device node in place of the file (a symlink to it would
  // be refused: arbor never writes through a symlink).
  struct stat full {};
  REQUIRE(::stat("/dev/full", &full) == 0);
  REQUIRE(::mknod(live.c_str(), S_IFCHR | 0600, full.st_rdev) == 0);
  fd.up(chatty(counter) + fd.app_env() + "[calm]\nargs = " + child_args({"sleep"}) + "\n"
        + fd.app_env());
  auto before = pids(fd);
  REQUIRE(before.chatty > 0);

  // ~3 MB written while every write of its log fails.
  CHECK(keeps_writing(counter, 3000));
  auto logs = fd.json({"show", "chatty"})["logs"];
  INFO(logs.dump());
  CHECK(logs["bytes_dropped"].get<uint64_t>() > 1024 * 1024);
  auto error = logs["last_error"].get<std::string>();
  CHECK(error.find(live) != std::string::npos);
  CHECK(error.find("No space left on device") != std::string::npos);
  auto show = fd.cli({"show", "chatty"});
  CHECK(show.rc == 0);
  CHECK(show.out.find("log error: ") != std::string::npos);
  CHECK(show.out.find("dropped") != std::string::npos);
  auto chatty0 = fd.instance("chatty#0");
  CHECK(is_up(chatty0["state"]));
  CHECK(chatty0["restarts"] == 0);
  CHECK(pids(fd) == before);

  // Space again: the next write reopens the file and lines arrive.
  REQUIRE(::unlink(live.c_str()) == 0);
  CHECK(wait_until([&] { return slurp(live).find("chatty#0 | line ") != std::string::npos; }));
  CHECK(fd.json({"show", "chatty"})["logs"]["bytes_written"].get<uint64_t>() > 0);
  CHECK(pids(fd) == before);
  fd.down_and_check_clean();
}

TEST_CASE("fault: the log directory turns into a file (ENOTDIR): the app runs on, the loss is "
          "reported, logging resumes") {
  fault_daemon fd;
  auto counter = fd.file("count");
  auto dir = fd.home + "/logs";
  auto live = dir + "/chatty.out.log";
  // Small files: rotation (rename, reopen) meets the fault at once.
  fd.up(chatty(counter) + "log_max_size = \"64K\"\nlog_max_files = 2\n" + fd.app_env()
        + "[calm]\nargs = " + child_args({"sleep"}) + "\n" + fd.app_env());
  auto before = pids(fd);
  REQUIRE(wait_until([&] { return slurp(live).find("chatty#0 | line ") != std::string::npos; }));

  // Swap the directory with a file in one step: between a rename and a
  // create, the pump would make the directory again.
  auto file = fd.home + "/logs.file";
  write_file(file, "not a directory\n");
  REQUIRE(::renameat2(AT_FDCWD, file.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0);
  std::string error;
  CHECK(wait_until([&] {
    error = fd.json({"show", "chatty"})["logs"]["last_error"].get<std::string>();
    return error.find("Not a directory") != std::string::npos;
  }, 5s));
  INFO(error);
  CHECK(error.find(live) != std::string::npos);
  auto dropped = fd.json({"show", "chatty"})["logs"]["bytes_dropped"].get<uint64_t>();
  CHECK(keeps_writing(counter, 3000));
  CHECK(fd.json({"show", "chatty"})["logs"]["bytes_dropped"].get<uint64_t>()
        > dropped + 1024 * 1024);
  CHECK(is_up(fd.instance("chatty#0")["state"]));
  CHECK(pids(fd) == before);

  // The file goes: the directory is made again and lines arrive.
  REQUIRE(::unlink(dir.c_str()) == 0);
  CHECK(wait_until([&] { return slurp(live).find("chatty#0 | line ") != std::string::npos; }));
  CHECK(pids(fd) == before);

  // The fault again, and `down` while it lasts: the daemon still exits.
  file = fd.home + "/logs.file2"; // the first one holds the old directory now
  write_file(file, "not a directory\n");
  auto dropped_before = fd.json({"show", "chatty"})["logs"]["bytes_dropped"].get<uint64_t>();
  REQUIRE(::renameat2(AT_FDCWD, file.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0);
  CHECK(wait_until([&] {
    return fd.json({"show", "chatty"})["logs"]["bytes_dropped"].get<uint64_t>() > dropped_before;
  }, 5s));
  fd.down_and_check_clean(10s);
}

TEST_CASE("fault: a log directory that cannot be made at startup: up fails with the reason, "
          "nothing runs") {
  fault_daemon fd;
  std::filesystem::create_directories(fd.home);
  write_file(fd.home + "/logs", "not a directory\n");
  write_file(fd.cfg, "[calm]\nargs = " + child_args({"sleep"}) + "\n" + fd.app_env());
  auto up = fd.cli({"up", fd.cfg}, 30s);
  CHECK(up.rc == 1);
  CHECK(up.err.find("cannot create log directory " + fd.home + "/logs") != std::string::npos);
  CHECK(marked_processes(fd.marker).empty());
  CHECK(fd.cli({"status"}).rc == 3);
}
