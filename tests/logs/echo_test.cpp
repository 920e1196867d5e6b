// The pump's echo to stdout/stderr (`arbor run`): prefixes painted per app,
// whole lines, a reader that left turns it off without harm.

#include <catch2/catch.hpp>

#include <csignal>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "logs/echo.hpp"

using namespace arbor::logs;
using namespace arbor::logs::detail;

TEST_CASE("echo: each line's prefix is painted, the text and the lines are kept") {
  std::string out;
  paint_prefixes("web#0 | GET /\n2026-12-06 web#1 | a | b\nno bar here\n", "36", out);
  CHECK(out == "\x1b[36mweb#0 |\x1b[0m GET /\n\x1b[36m2026-12-06 web#1 |\x1b[0m a | b\nno bar here\n");
  paint_prefixes("", "36", out);
  CHECK(out.empty());
  CHECK(color_of("web") == color_of("web"));
}

TEST_CASE("echo: lines go to the stream's descriptor, and a closed reader turns that stream off") {
  std::signal(SIGPIPE, SIG_IGN);
  int out[2], err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  echo_sink sink;
  sink.set(out[1], err[1], false);
  CHECK(sink.on());
  sink.write(stream::out, "a", "a#0 | one\n");
  sink.write(stream::err, "a", "a#0 | two\n");
  char buf[64];
  CHECK(std::string(buf, static_cast<size_t>(::read(out[0], buf, sizeof buf))) == "a#0 | one\n");
  CHECK(std::string(buf, static_cast<size_t>(::read(err[0], buf, sizeof buf))) == "a#0 | two\n");
  ::close(out[0]);
  sink.write(stream::out, "a", "a#0 | lost\n"); // EPIPE: off for good
  sink.write(stream::err, "a", "a#0 | three\n");
  CHECK(sink.on());
  CHECK(std::string(buf, static_cast<size_t>(::read(err[0], buf, sizeof buf))) == "a#0 | three\n");
  ::close(err[0]);
  sink.write(stream::err, "a", "a#0 | gone\n");
  CHECK_FALSE(sink.on());
  ::close(out[1]);
  ::close(err[1]);
}
