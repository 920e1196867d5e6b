#include <catch2/catch.hpp>

#include "logs/log_pump.hpp"
#include "helpers.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace arbor::logs;
using namespace arbor::logs::test;
using namespace std::chrono_literals;

namespace {

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

bool has_line(const std::string& file, const std::string& line) {
  auto lines = lines_of(file);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

/// Bytes still in a pipe (FIONREAD works on either end).
int unread(int fd) {
  int n = -1;
  ::ioctl(fd, FIONREAD, &n);
  return n;
}

app_log_config config(const temp_dir& dir, const std::string& app) {
  app_log_config c;
  c.app = app;
  c.dir = dir.path + "/logs";
  return c;
}

} // namespace

TEST_CASE("log_pump: lines of two instances merge into one file with their prefixes") {
  temp_dir tmp;
  std::string out, err;
  std::tie(out, err) = log_pump::paths(tmp.path + "/logs", "web.api");
  log_pump pump;
  pump.configure(config(tmp, "web.api"));
  int w0 = pump.open_stream("web.api", 0, stream::out);
  int w1 = pump.open_stream("web.api", 1, stream::out);
  REQUIRE(w0 >= 0);
  REQUIRE(w1 >= 0);
  CHECK((::fcntl(w0, F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(put(w0, "hello from 0\nsecond from 0\n"));
  REQUIRE(put(w1, "hello from 1\n"));
  REQUIRE(wait_until([&] { return lines_of(out).size() == 3; }));
  CHECK(has_line(out, "web.api#0 | hello from 0"));
  CHECK(has_line(out, "web.api#0 | second from 0"));
  CHECK(has_line(out, "web.api#1 | hello from 1"));
  auto lines = lines_of(out);
  auto first = std::find(lines.begin(), lines.end(), "web.api#0 | hello from 0");
  auto second = std::find(lines.begin(), lines.end(), "web.api#0 | second from 0");
  CHECK(first < second); // one instance's lines keep their order
  CHECK(slurp(err).empty());
  ::close(w0);
  ::close(w1);
}

TEST_CASE("log_pump: stdout and stderr go to separate files") {
  temp_dir tmp;
  std::string out, err;
  std::tie(out, err) = log_pump::paths(tmp.path + "/logs", "db");
  CHECK(out == tmp.path + "/logs/db.out.log");
  CHECK(err == tmp.path + "/logs/db.err.log");
  log_pump pump;
  pump.configure(config(tmp, "db"));
  int wo = pump.open_stream("db", 0, stream::out);
  int we = pump.open_stream("db", 0, stream::err);
  REQUIRE(put(wo, "to out\n"));
  REQUIRE(put(we, "to err\n"));
  REQUIRE(wait_until([&] { return has_line(out, "db#0 | to out") && has_line(err, "db#0 | to err"); }));
  CHECK(lines_of(out).size() == 1);
  CHECK(lines_of(err).size() == 1);
  ::close(wo);
  ::close(we);
}

TEST_CASE("log_pump: date_format prefixes each line with the local time") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "dated").first;
  log_pump pump;
  auto c = config(tmp, "dated");
  c.date_format = "%Y-%m-%dT%H:%M:%S";
  pump.configure(c);
  int w = pump.open_stream("dated", 3, stream::out);
  REQUIRE(put(w, "tick\n"));
  REQUIRE(wait_until([&] { return lines_of(out).size() == 1; }));
  std::regex shape{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d dated#3 \| tick)"};
  CHECK(std::regex_match(lines_of(out).at(0), shape));
  ::close(w);
}

TEST_CASE("log_pump: an unterminated line waits for its newline") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "p").first;
  log_pump pump;
  pump.configure(config(tmp, "p"));
  int w0 = pump.open_stream("p", 0, stream::out);
  int w1 = pump.open_stream("p", 1, stream::out);
  REQUIRE(put(w0, "abc"));
  REQUIRE(wait_until([&] { return unread(w0) == 0; })); // the pump has it
  // The pump is one thread: once a later read's line is in the file, "abc"
  // was fully handled, and must have been kept back.
  REQUIRE(put(w1, "marker\n"));
  REQUIRE(wait_until([&] { return has_line(out, "p#1 | marker"); }));
  CHECK(lines_of(out).size() == 1);
  REQUIRE(put(w0, "def\n"));
  REQUIRE(wait_until([&] { return has_line(out, "p#0 | abcdef"); }));
  CHECK(lines_of(out).size() == 2);
  ::close(w0);
  ::close(w1);
}

TEST_CASE("log_pump: a 100 KB line without newline is cut at 16 KiB") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "big").first;
  log_pump pump;
  pump.configure(config(tmp, "big"));
  int w = pump.open_stream("big", 0, stream::out);
  REQUIRE(put(w, std::string(100000, 'x'))); // more than the pipe holds: the pump reads as we write
  std::string piece = "big#0 | " + std::string(log_pump::max_line, 'x');
  REQUIRE(wait_until([&] { return lines_of(out).size() == 6; }));
  for (auto& line : lines_of(out))
    CHECK(line == piece);
  REQUIRE(put(w, "\n"));
  size_t rest = 100000 - 6 * log_pump::max_line;
  REQUIRE(wait_until([&] { return lines_of(out).size() == 7; }));
  CHECK(lines_of(out).back() == "big#0 | " + std::string(rest, 'x'));
  CHECK(pump.stats("big").bytes_written == slurp(out).size());
  ::close(w);
}

TEST_CASE("log_pump: rotation at max_size keeps max_files files, newest content live") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "rot").first;
  log_pump pump;
  auto c = config(tmp, "rot");
  c.max_size = 1000;
  c.max_files = 3;
  pump.configure(c);
  int w = pump.open_stream("rot", 0, stream::out);
  std::string all;
  for (int i = 0; i < 300; ++i)
    all += "line " + std::to_string(1000 + i) + "\n"; // "rot#0 | line 1xxx\n": 18 bytes
  REQUIRE(put(w, all));
  REQUIRE(wait_until([&] { return has_line(out, "rot#0 | line 1299"); }));
  CHECK(exists(out));
  CHECK(exists(out + ".1"));
  CHECK(exists(out + ".2"));
  CHECK_FALSE(exists(out + ".3"));
  CHECK(lines_of(out).back() == "rot#0 | line 1299");
  // Oldest to newest, the kept files hold consecutive lines, each within max_size.
  std::vector<std::string> kept;
  for (auto f : {out + ".2", out + ".1", out}) {
    CHECK(slurp(f).size() <= 1000);
    if (f != out)
      CHECK(slurp(f).size() == 990); // as many whole lines as fit
    for (auto& line : lines_of(f))
      kept.push_back(line);
  }
  REQUIRE(!kept.empty());
  int first = std::stoi(kept.front().substr(kept.front().size() - 4));
  for (size_t i = 0; i < kept.size(); ++i)
    CHECK(kept[i] == "rot#0 | line " + std::to_string(first + static_cast<int>(i)));
  CHECK(pump.stats("rot").rotations == 300 * 18 / 990); // 55 lines (990 bytes) a file
  ::close(w);
}

TEST_CASE("log_pump: flush truncates the live files and removes rotated ones") {
  temp_dir tmp;
  std::string out, err;
  std::tie(out, err) = log_pump::paths(tmp.path + "/logs", "fl");
  log_pump pump;
  auto c = config(tmp, "fl");
  c.max_size = 200;
  pump.configure(c);
  int wo = pump.open_stream("fl", 0, stream::out);
  int we = pump.open_stream("fl", 0, stream::err);
  for (int i = 0; i < 30; ++i)
    REQUIRE(put(wo, "out line " + std::to_string(i) + "\n"));
  REQUIRE(put(we, "err line\n"));
  REQUIRE(wait_until([&] { return has_line(out, "fl#0 | out line 29") && has_line(err, "fl#0 | err line"); }));
  REQUIRE(exists(out + ".1"));
  CHECK(pump.flush("fl"));
  CHECK(slurp(out).empty());
  CHECK(slurp(err).empty());
  CHECK_FALSE(exists(out + ".1"));
  CHECK_FALSE(exists(out + ".2"));
  REQUIRE(put(wo, "after\n"));
  REQUIRE(wait_until([&] { return slurp(out) == "fl#0 | after\n"; }));
  CHECK_FALSE(pump.flush("nobody"));
  ::close(wo);
  ::close(we);
}

TEST_CASE("log_pump: when every writer is gone the stream is drained and forgotten") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "eof").first;
  log_pump pump;
  pump.configure(config(tmp, "eof"));
  int w = pump.open_stream("eof", 0, stream::out);
  REQUIRE(pump.streams() == 1);
  REQUIRE(put(w, "whole\nlast words"));
  ::close(w);
  REQUIRE(wait_until([&] { return pump.streams() == 0; }));
  CHECK(lines_of(out) == std::vector<std::string>{"eof#0 | whole", "eof#0 | last words"});
}

TEST_CASE("log_pump: open_stream of an unconfigured app fails with ENOENT") {
  log_pump pump;
  errno = 0;
  CHECK(pump.open_stream("ghost", 0, stream::out) == -1);
  CHECK(errno == ENOENT);
}

TEST_CASE("log_pump: a flooding writer does not hold back another app's lines") {
  temp_dir tmp;
  auto quiet = log_pump::paths(tmp.path + "/logs", "quiet").first;
  log_pump pump;
  auto fc = config(tmp, "flood");
  fc.max_size = 1 << 20; // bounded disk use while it floods
  fc.max_files = 2;
  pump.configure(fc);
  pump.configure(config(tmp, "quiet"));
  int wf = pump.open_stream("flood", 0, stream::out);
  int wq = pump.open_stream("quiet", 0, stream::out);
  std::atomic<bool> done{false};
  std::thread flood([&] {
    std::string block;
    while (block.size() < 64 * 1024)
      block += "flooding flooding flooding flooding flooding flooding flooding\n";
    while (!done.load())
      if (!put(wf, block))
        break;
  });
  // Let it flood for real: the pump keeps rotating its files.
  bool flooding = wait_until([&] { return pump.stats("flood").rotations >= 2; });
  auto sent = std::chrono::steady_clock::now();
  REQUIRE(put(wq, "still here\n"));
  bool seen = wait_until([&] { return has_line(quiet, "quiet#0 | still here"); }, 5s);
  auto took = std::chrono::steady_clock::now() - sent;
  done = true;
  flood.join(); // its last write completes: the pump keeps reading
  ::close(wf);
  ::close(wq);
  REQUIRE(flooding);
  REQUIRE(seen);
  CHECK(took < 1s);
  CHECK_FALSE(exists(log_pump::paths(tmp.path + "/logs", "flood").first + ".2"));
}

TEST_CASE("log_pump: an unwritable file drops bytes, counts them, and recovers") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "bad").first;
  log_pump pump;
  pump.configure(config(tmp, "bad"));
  REQUIRE(::mkdir(out.c_str(), 0755) == 0); // a directory where the file goes
  int w = pump.open_stream("bad", 0, stream::out);
  REQUIRE(put(w, "lost\n"));
  REQUIRE(wait_until([&] { return pump.stats("bad").bytes_dropped > 0; }));
  auto st = pump.stats("bad");
  CHECK(st.bytes_dropped == std::string{"bad#0 | lost\n"}.size());
  CHECK(st.bytes_written == 0);
  CHECK(st.last_error.find("Is a directory") != std::string::npos);
  REQUIRE(::rmdir(out.c_str()) == 0);
  REQUIRE(put(w, "found\n"));
  REQUIRE(wait_until([&] { return has_line(out, "bad#0 | found"); }));
  CHECK(pump.stats("bad").bytes_written == std::string{"bad#0 | found\n"}.size());
  CHECK(pump.stats("bad").bytes_dropped == std::string{"bad#0 | lost\n"}.size());
  ::close(w);
}

TEST_CASE("log_pump: the destructor drains what the pipes hold") {
  temp_dir tmp;
  auto out = log_pump::paths(tmp.path + "/logs", "bye").first;
  int w = -1;
  {
    log_pump pump;
    pump.configure(config(tmp, "bye"));
    w = pump.open_stream("bye", 0, stream::out);
    REQUIRE(put(w, "one\ntwo\nunfinished"));
  } // the write end is still open: no EOF, yet everything is written
  CHECK(lines_of(out) == std::vector<std::string>{"bye#0 | one", "bye#0 | two", "bye#0 | unfinished"});
  ::close(w);
}

TEST_CASE("log_pump: a symlinked log file is refused: nothing written through it, a dangling one "
          "creates nothing, flush truncates no target") {
  temp_dir tmp;
  std::string out, err;
  std::tie(out, err) = log_pump::paths(tmp.path + "/logs", "ln");
  REQUIRE(::mkdir((tmp.path + "/logs").c_str(), 0755) == 0);
  std::string target = tmp.path + "/victim";
  std::ofstream(target) << "precious\n";
  REQUIRE(::symlink(target.c_str(), out.c_str()) == 0);
  std::string dangling = tmp.path + "/created-by-arbor";
  REQUIRE(::symlink(dangling.c_str(), err.c_str()) == 0);

  log_pump pump;
  pump.configure(config(tmp, "ln"));
  int fds[2] = {pump.open_stream("ln", 0, stream::out), pump.open_stream("ln", 0, stream::err)};
  REQUIRE(put(fds[0], "into the link\n"));
  REQUIRE(put(fds[1], "into the dangling link\n"));
  REQUIRE(wait_until([&] {
    return pump.stats("ln").bytes_dropped
           == std::string{"ln#0 | into the link\nln#0 | into the dangling link\n"}.size();
  }));
  auto st = pump.stats("ln");
  CHECK(st.bytes_written == 0);
  CHECK(st.last_error.find("it is a symlink; arbor never writes through one")
        != std::string::npos);
  CHECK(slurp(target) == "precious\n");
  CHECK_FALSE(exists(dangling));

  CHECK_FALSE(pump.flush("ln")); // refused, and said so
  CHECK(pump.stats("ln").last_error.find("symlink") != std::string::npos);
  CHECK(slurp(target) == "precious\n");
  CHECK_FALSE(exists(dangling));
  ::close(fds[0]);
  ::close(fds[1]);
}
