// `arbor top` in a real terminal: a detached tmux session (tmux gives it the
// pty, so this runs in CI without one) against a real daemon in a temporary
// ARBOR_HOME. Every wait is a bounded poll on the pane's content.

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

/// One tmux server on its own socket in the test's directory, killed (by
/// that socket) when the test ends, whatever happened.
struct tmux_server {
  std::string socket, scratch;
  ~tmux_server() { run({"kill-server"}); }

  cli_result run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"tmux", "-S", socket, "-f", "/dev/null"});
    return run_program(args, {"TERM=xterm"}, scratch, std::chrono::seconds(10));
  }
  std::string pane() const { return run({"capture-pane", "-p", "-t", "top"}).out; }
  std::string format(const std::string& f) const {
    auto out = run({"display-message", "-p", "-t", "top", f}).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  void keys(std::initializer_list<std::string> ks) const {
    std::vector<std::string> args{"send-keys", "-t", "top"};
    args.insert(args.end(), ks.begin(), ks.end());
    REQUIRE(run(args).rc == 0);
  }
  /// Polls the pane until `pred` holds (15 s at most); fails with the pane.
  template <class Pred>
  void wait_for(const char* what, Pred pred) const {
    std::string last;
    bool ok = eventually([&] {
      last = pane();
      return pred(last);
    });
    INFO("waiting for " << what << "; the pane:\n" << last);
    REQUIRE(ok);
  }
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// The line of the pane that shows instance `index` of the last app listed
/// before it with `app` in its row ("" if none).
std::string instance_line(const std::string& pane, const std::string& app, const std::string& index) {
  bool in_app = false;
  for (const auto& l : lines_of(pane)) {
    auto trimmed = l.substr(std::min(l.find_first_not_of(' '), l.size()));
    if (trimmed.rfind("- ", 0) == 0 || trimmed.rfind("+ ", 0) == 0)
      in_app = trimmed.compare(2, app.size() + 2, app + "  ") == 0;
    else if (in_app && trimmed.rfind(index + " ", 0) == 0)
      return l;
  }
  return "";
}

/// Code points of `s`.
size_t width_of(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

/// The pid of the one child of `parent` (the shell's `arbor top`), 0 if none.
int only_child(int parent) {
  auto p = std::to_string(parent);
  std::ifstream in("/proc/" + p + "/task/" + p + "/children");
  int pid = 0;
  in >> pid;
  return pid;
}

/// A daemon in a temporary home (crashy exits at once, then waits a minute in
/// backoff) and a tmux session of 80x24 whose shell has printed a marker.
struct top_fixture {
  top_fixture() {
    up_with(home, d.file("arbor.toml"),
              "[web.api]\nargs = " + child_args({"sleep"}) + "\ninstances = 2\n[solo]\nargs = "
                + child_args({"sleep"}) + "\n[crashy]\nargs = " + child_args({"exit", "1"})
                + "\nbackoff_base_ms = 60000\nbackoff_max_ms = 60000\n");
    auto started = tmux.run({"new-session", "-d", "-s", "top", "-x", "80", "-y", "24", "-e",
                             "ARBOR_HOME=" + home, "sh"});
    INFO(started.err);
    REQUIRE(started.rc == 0);
    // The output, not the echo of what was typed (which may come before the
    // shell's prompt): the shell runs commands.
    tmux.keys({"-l", "echo shell-$((6 * 7))"});
    tmux.keys({"Enter"});
    tmux.wait_for("the shell", [](const std::string& p) { return has(p, "shell-42"); });
  }
  ~top_fixture() { run_arbor({"down"}, home); }

  /// Types `arbor top` (after `prefix`, before `flags`) and waits for the tree.
  void start_top(const std::string& prefix = "", const std::string& flags = "") {
    tmux.keys({"-l", prefix + ARBOR_BIN + " top" + flags});
    tmux.keys({"Enter"});
    tmux.wait_for("the tree", [](const std::string& p) {
      return has(p, "arbor top  3 apps, 4 instances") && has(p, "next restart in ");
    });
    CHECK(tmux.format("#{alternate_on}") == "1");
  }
  /// Waits for the shell's screen as it was before `arbor top`.
  void wait_restored() {
    tmux.wait_for("the shell again", [](const std::string& p) {
      return has(p, "shell-42") && !has(p, "arbor top  ");
    });
    CHECK(tmux.format("#{alternate_on}") == "0");
  }
  std::string escaped_pane() { return tmux.run({"capture-pane", "-e", "-p", "-t", "top"}).out; }

  temp_dir d;
  std::string home = d.file("home");
  daemon_guard guard{home};
  tmux_server tmux{d.file("tmux.sock"), d.path.string()}; // killed before the daemon
};

} // namespace

TEST_CASE("arbor top in tmux: the tree and its states, restart by key, resize, q restores") {
  top_fixture f;
  auto before = pids_of(f.home);
  f.start_top();

  // Every instance's state and pid; a backoff counts down; the CLI's colours.
  auto pane = f.tmux.pane();
  CHECK(lines_of(pane).size() == 24);
  CHECK(has(pane, "- web  one_for_one"));
  CHECK(has(pane, "- web.api  on_failure  2/2 up"));
  for (std::string i : {"web.api#0", "web.api#1", "solo#0"}) {
    auto line = instance_line(pane, i.substr(0, i.find('#')), i.substr(i.find('#')));
    CHECK(has(line, " " + std::to_string(before.at(i)) + " "));
    CHECK((has(line, " running ") || has(line, " ready ")));
  }
  auto crashy = instance_line(pane, "crashy", "#0");
  CHECK(has(crashy, " backoff "));
  CHECK(std::regex_search(crashy, std::regex{"next restart in [1-6]?[0-9]s"}));
  auto escaped = f.escaped_pane();
  CHECK(has(escaped, "\x1b[33mbackoff"));
  CHECK(has(escaped, "\x1b[32m"));

  // Restart solo#0 by key: the filter narrows the tree, G selects the last
  // row, r asks, y confirms; the pane shows the new pid.
  f.tmux.keys({"-l", "fsolo"});
  f.tmux.keys({"Enter"});
  f.tmux.keys({"G", "r"});
  f.tmux.wait_for("the confirmation", [](const std::string& p) { return has(p, "restart solo#0? [y/N]"); });
  f.tmux.keys({"y"});
  f.tmux.wait_for("the new pid", [&](const std::string& p) {
    int now = pids_of(f.home).at("solo#0");
    return now != before.at("solo#0") && now > 0
           && has(instance_line(p, "solo", "#0"), " " + std::to_string(now) + " ");
  });
  CHECK_FALSE(has(f.tmux.pane(), " " + std::to_string(before.at("solo#0")) + " "));

  // A resize redraws at the new size: the status line (the restart's
  // result) on the new last row, the pane's separator as wide as the window.
  REQUIRE(f.tmux.run({"resize-window", "-t", "top", "-x", "100", "-y", "30"}).rc == 0);
  f.tmux.wait_for("the redraw at 100x30", [](const std::string& p) {
    auto ls = lines_of(p);
    if (ls.size() != 30 || !has(ls[29], "restarted solo#0")) return false;
    for (const auto& l : ls)
      if (has(l, " events ")) return width_of(l) == 100;
    return false;
  });

  // q: the alternate screen is left, the shell and what it showed are back.
  f.tmux.keys({"q"});
  f.wait_restored();
}

TEST_CASE("arbor top in tmux: Ctrl-C (SIGINT) restores the terminal, NO_COLOR means no colour") {
  top_fixture f;
  f.start_top("NO_COLOR=1 ");
  auto escaped = f.escaped_pane();
  for (const char* colour : {"\x1b[31m", "\x1b[32m", "\x1b[33m"}) CHECK_FALSE(has(escaped, colour));
  f.tmux.keys({"C-c"});
  f.wait_restored();
}

TEST_CASE("arbor top in tmux: --read-only refuses actions, SIGTERM restores the terminal") {
  top_fixture f;
  f.start_top("", " --read-only");
  auto pid = pids_of(f.home).at("solo#0");
  f.tmux.keys({"-l", "fsolo"});
  f.tmux.keys({"Enter", "G", "r"});
  f.tmux.wait_for("the read-only answer", [](const std::string& p) {
    return has(p, "[read-only]") && has(p, "read-only: actions are off");
  });
  CHECK(pids_of(f.home).at("solo#0") == pid);
  int top = only_child(std::stoi(f.tmux.format("#{pane_pid}")));
  REQUIRE(top > 0);
  REQUIRE(signal_if_of_home(top, f.home, SIGTERM));
  f.wait_restored();
}

TEST_CASE("arbor top without a terminal says so and exits 1") {
  temp_dir d;
  auto r = run_arbor({"top"}, d.file("home"));
  CHECK(r.rc == 1);
  CHECK(has(r.err, "top needs a terminal"));
}
