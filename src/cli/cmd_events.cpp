// `arbor events [-f] [-n N]`: the tree's recent events as log lines; with -f,
// every new one until interrupted.

#include <csignal>
#include <limits>
#include <cstdio>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "cli/verbs.hpp"

namespace arbor::cli {

namespace {

volatile sig_atomic_t newline_on_interrupt = 0;

// Ctrl-C is how a follow ends: leave at once with success. Every line was
// written whole with write(2), so nothing is lost in a buffer.
void leave_on_interrupt(int) {
  if (newline_on_interrupt) {
    auto n = ::write(STDOUT_FILENO, "\n", 1);
    (void)n;
  }
  ::_exit(0);
}

void end_cleanly_on_interrupt() {
  newline_on_interrupt = ::isatty(STDOUT_FILENO) ? 1 : 0;
  on_interrupt(leave_on_interrupt);
  // A closed stdout (`arbor events -f | head`) ends the stream too: write()
  // then fails with EPIPE instead of killing us.
  std::signal(SIGPIPE, SIG_IGN);
}

} // namespace

void add_events_verb(CLI::App& app) {
  struct options {
    bool follow = false;
    int last = 20;
    bool json = false;
  };
  auto opts = std::make_shared<options>();
  auto* cmd =
    app.add_subcommand("events", "Show recent events (starts, exits, restarts); -f follows");
  cmd->add_flag("-f,--follow", opts->follow, "Keep printing new events until interrupted");
  check_count(cmd->add_option("-n,--lines", opts->last, "How many recent events to show first")
                ->capture_default_str(),
              "-n", std::numeric_limits<int>::max());
  cmd->add_flag("--json", opts->json, "Print each event as one JSON object per line (JSONL)");
  cmd->callback([opts] {
    bool color = stdout_color();
    if (!opts->follow) {
      auto result = call_daemon("events", {{"follow", false}, {"last", opts->last}});
      if (opts->json) {
        auto it = result.find("events");
        if (it != result.end() && it->is_array())
          for (const auto& ev : *it) print_json_line(ev);
        return;
      }
      std::fputs(render_events(result, color).c_str(), stdout);
      return;
    }
    end_cleanly_on_interrupt();
    event_columns cols;
    // "child_started": the longest of an instance's usual kinds; a longer one
    // (restarting_siblings, dependencies_ready) widens the column when it comes.
    cols.kind = 13;
    call_daemon("events", {{"follow", true}, {"last", opts->last}}, no_timeout,
                [&](const nlohmann::json& ev) {
                  if (opts->json) return print_json_line(ev);
                  return write_out(render_event(ev, color, cols) + "\n");
                });
  });
}

} // namespace arbor::cli
