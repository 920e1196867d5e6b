// arbor's own log lines (arbor/log.hpp): a sink set by the embedder gets
// them with their level; without one they go to stderr, stamped.

#include <catch2/catch.hpp>

#include <mutex>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "arbor/log.hpp"
#include "log.hpp"
#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

struct captured {
  std::mutex m;
  std::vector<std::pair<log_level, std::string>> lines;
  std::vector<std::pair<log_level, std::string>> take() {
    std::lock_guard<std::mutex> g{m};
    return lines;
  }
};

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

TEST_CASE("log sink: an embedder's sink gets every event line with its level") {
  auto cap = std::make_shared<captured>();
  set_log_sink([cap](log_level l, std::string_view line) {
    std::lock_guard<std::mutex> g{cap->m};
    cap->lines.emplace_back(l, std::string{line});
  });
  {
    harness h{"[once]\nargs = " + child_args({"exit", "3"}) + "\nrestart = \"never\"\n",
              std::chrono::seconds(2), true};
    h.start();
    h.wait("child_exited", "once#0");
  }
  set_log_sink({});
  auto lines = cap->take();
  bool started = false, exited = false;
  for (auto& [level, text] : lines) {
    if (text.find("event=child_started") != std::string::npos) {
      started = true;
      CHECK(level == log_level::info);
      CHECK(text.find("offender=once#0") != std::string::npos);
    }
    if (text.find("event=child_exited") != std::string::npos) {
      exited = true;
      CHECK(level == log_level::warning); // exit(3): not a clean exit
      CHECK(text.find("reason=\"exit(3)\"") != std::string::npos);
    }
    CHECK(text.find('\n') == std::string::npos);
  }
  CHECK(started);
  CHECK(exited);
}

TEST_CASE("log sink: without one, lines go to stderr with a timestamp and the level") {
  set_log_sink({});
  detail::log_color(false); // decided once per process; this run may be on a terminal
  std::string err;
  {
    stderr_capture cap;
    {
      harness h{"[once]\nargs = " + child_args({"exit", "0"}) + "\nrestart = \"never\"\n",
                std::chrono::seconds(2), true};
      h.start();
      h.wait("child_exited", "once#0");
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
