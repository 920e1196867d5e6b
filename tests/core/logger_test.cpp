// arbor's own log lines (arbor/spdlog.hpp): an spdlog logger handed over by
// the embedder gets them with their level; without one they go to stderr,
// stamped.

#include <catch2/catch.hpp>

#include <memory>
#include <regex>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "arbor/spdlog.hpp"
#include "harness.hpp"
#include "log.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

/// Points fd 2 at a pipe while alive; read() what was written.
struct stderr_capture {
  int saved = ::dup(STDERR_FILENO);
  int fds[2]{-1, -1};
  stderr_capture() {
    REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    ::dup2(fds[1], STDERR_FILENO);
  }
  ~stderr_capture() {
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fds[0]);
    ::close(fds[1]);
  }
  std::string read() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

} // namespace

TEST_CASE("logger: an embedder's spdlog logger gets every event line with its level") {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto mine = std::make_shared<spdlog::logger>("service", sink);
  set_logger(mine);
  CHECK(arbor::logger() == mine);
  {
    harness h{"[once]\nargs = " + child_args({"exit", "3"}) + "\nrestart = \"never\"\n",
              std::chrono::seconds(2), true};
    h.start();
    h.wait(event_kind::child_exited, "once#0");
  }
  set_logger(nullptr);
  CHECK(arbor::logger() != mine);
  bool started = false, exited = false;
  for (auto& msg : sink->last_raw()) {
    std::string text{msg.payload.data(), msg.payload.size()};
    if (text.find("event=child_started") != std::string::npos) {
      started = true;
      CHECK(msg.level == spdlog::level::info);
      CHECK(text.find("offender=once#0") != std::string::npos);
    }
    if (text.find("event=child_exited") != std::string::npos) {
      exited = true;
      CHECK(msg.level == spdlog::level::warn); // exit(3): not a clean exit
      CHECK(text.find("reason=\"exit(3)\"") != std::string::npos);
    }
    CHECK(text.find('\n') == std::string::npos);
  }
  CHECK(started);
  CHECK(exited);
}

TEST_CASE("logger: without one, lines go to stderr with a timestamp and the level") {
  set_logger(nullptr);
  detail::log_color(false); // decided once per process; this run may be on a terminal
  std::string err;
  {
    stderr_capture cap;
    {
      harness h{"[once]\nargs = " + child_args({"exit", "0"}) + "\nrestart = \"never\"\n",
                std::chrono::seconds(2), true};
      h.start();
      h.wait(event_kind::child_exited, "once#0");
    }
    err = cap.read();
  }
  INFO(err);
  // 2026-11-21T21:42:02.123 info  supervisor=once event=child_exited ...
  std::regex line{R"re((^|\n)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} info  supervisor=once )re"
                  R"re(event=child_exited reason="exit\(0\)" offender=once#0 pid=\d+ )re"};
  CHECK(std::regex_search(err, line));
  CHECK(to_string(log_level::warning) == std::string{"warning"});
}
