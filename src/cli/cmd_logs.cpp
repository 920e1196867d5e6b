// `arbor logs` and `arbor flush`. The daemon owns the files: `logs` asks it
// where they are and reads them here (tail -F style, through log_follower);
// with no daemon running it reads what is in $ARBOR_HOME/logs. `flush` asks
// the daemon to truncate them, since its pump has them open.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <filesystem>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/verbs.hpp"
#include "logs/follower.hpp"
#include "proto/client.hpp"

namespace arbor::cli {

namespace {

struct logs_options {
  std::vector<std::string> names;
  bool follow = false;
  int lines = 20;
  bool err_only = false;
  bool out_only = false;
  bool json = false;
};

struct flush_options {
  std::vector<std::string> names;
  bool json = false;
};

/// What a followed file is.
struct log_file {
  std::string app;
  const char* stream; // "out" or "err"
};

nlohmann::json names_args(const std::vector<std::string>& names) {
  auto args = nlohmann::json::object();
  if (!names.empty())
    args["names"] = names;
  return args;
}

// Ctrl-C is how a follow ends: leave at once with success (every line was
// already written whole with write(2)).
void leave_on_interrupt(int) {
  ::_exit(0);
}

/// A pump line is "[date ]app#i | text": the prefix is dimmed, an err
/// line's text is red.
std::string coloured(const std::string& line, bool err) {
  static const std::string dim = "\x1b[2m", red = "\x1b[31m", reset = "\x1b[0m";
  auto bar = line.find(" | ");
  size_t cut = bar == std::string::npos ? 0 : bar + 3;
  std::string out;
  if (cut > 0)
    out += dim + line.substr(0, cut) + reset;
  if (err)
    out += red + line.substr(cut) + reset;
  else
    out += line.substr(cut);
  return out;
}

/// True when `app` is one of `names` (all when empty): the app itself, a
/// group holding it, or its last segment.
bool named(const std::string& app, const std::vector<std::string>& names) {
  if (names.empty()) return true;
  const std::string last = app.substr(app.rfind('.') + 1);
  for (const auto& n : names)
    if (app == n || last == n || app.rfind(n + ".", 0) == 0) return true;
  return false;
}

/// The daemon's answer to `logs` without a daemon: the live files
/// (<app>.out.log, <app>.err.log) in `dir` of the apps `names` select.
nlohmann::json files_in(const std::string& dir, const std::vector<std::string>& names) {
  std::map<std::string, nlohmann::json> apps;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    for (const char* stream : {"out", "err"}) {
      const std::string suffix = std::string{"."} + stream + ".log";
      if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string app = f.substr(0, f.size() - suffix.size());
      if (!named(app, names)) continue;
      apps[app]["app"] = app;
      apps[app][stream] = e.path().string();
    }
  }
  if (!names.empty() && apps.empty())
    fail(exit_failed, "no daemon running, and no log files of " + names.front() + " in " + dir);
  auto files = nlohmann::json::array();
  for (auto& [app, f] : apps) files.push_back(f);
  return {{"files", files}};
}

/// Where the files are: the daemon says, or with none running, the home's logs.
nlohmann::json listing(const logs_options& o) {
  std::string error;
  if (proto::client::connect(socket_path(), error)) return call_daemon("logs", names_args(o.names));
  const std::string dir = arbor_home() + "/logs";
  if (!o.json) std::fprintf(stderr, "arbor: no daemon running: the files in %s\n", dir.c_str());
  return files_in(dir, o.names);
}

void run_logs(const logs_options& o) {
  auto result = listing(o);
  std::vector<std::string> paths;
  std::map<std::string, log_file> files;
  auto listed = result.find("files");
  if (listed != result.end() && listed->is_array())
    for (auto& f : *listed) {
      if (!f.is_object())
        continue;
      auto app = f.value("app", "");
      for (const char* stream : {"out", "err"}) {
        bool wanted = std::string{stream} == "out" ? !o.err_only : !o.out_only;
        auto path = f.value(stream, "");
        if (!wanted || path.empty() || files.count(path))
          continue;
        paths.push_back(path);
        files[path] = log_file{app, stream};
      }
    }
  if (paths.empty()) {
    if (!o.json)
      std::fprintf(stderr, "arbor: no log files (no apps)\n");
    return;
  }

  // A closed stdout (`arbor logs | head`) ends the verb: write() then fails
  // with EPIPE instead of killing us.
  std::signal(SIGPIPE, SIG_IGN);
  if (o.follow)
    on_interrupt(leave_on_interrupt);
  bool colour = !o.json && use_color(STDOUT_FILENO);
  std::string pending;  // lines not written yet: the tail is written in blocks
  bool gone = false;    // stdout is closed
  bool live = false;    // following: every line is written at once
  std::string shown;    // the file of the last line written, for tail's headers
  using json_line = nlohmann::ordered_json; // keys in the documented order
  std::unique_ptr<logs::log_follower> follower;
  auto flush_out = [&] {
    if (!gone && !pending.empty() && !write_out(pending)) {
      gone = true;
      follower->stop();
    }
    pending.clear();
  };
  follower = std::make_unique<logs::log_follower>(
    paths, [&](const std::string& path, const std::string& line) {
      if (gone)
        return;
      auto& f = files.at(path);
      if (o.json) {
        json_line j{{"file", path}, {"app", f.app}, {"stream", f.stream}, {"line", line}};
        pending += j.dump(-1, ' ', false, json_line::error_handler_t::replace);
      } else {
        if (paths.size() > 1 && path != shown) // as tail does with several files
          pending += (shown.empty() ? "==> " : "\n==> ") + path + " <==\n";
        shown = path;
        pending += colour ? coloured(line, std::string{f.stream} == "err") : line;
      }
      pending += '\n';
      if (live || pending.size() >= 64 * 1024)
        flush_out();
    });
  follower->tail(static_cast<size_t>(o.lines));
  flush_out();
  if (!o.follow || gone)
    return;
  live = true;
  auto ec = follower->run_for(std::chrono::milliseconds(-1));
  flush_out();
  if (ec)
    fail(exit_failed, "cannot follow the log files: " + ec.message());
}

void run_flush(const flush_options& o) {
  auto result = call_daemon("flush", names_args(o.names));
  if (o.json) {
    print_json(result);
    return;
  }
  auto flushed = result.find("flushed");
  if (flushed != result.end() && flushed->is_array())
    for (auto& app : *flushed)
      if (app.is_string())
        std::printf("flushed %s\n", app.get<std::string>().c_str());
}

} // namespace

void add_log_verbs(CLI::App& app) {
  auto lo = std::make_shared<logs_options>();
  auto* logs = app.add_subcommand("logs", "Show the output of apps (from their log files)");
  logs->add_option("names", lo->names, "Apps or groups (default: all)");
  logs->add_flag("-f,--follow", lo->follow, "Keep printing new lines, across rotation");
  check_count(logs->add_option("-n,--lines", lo->lines,
                               "Lines to show from the end of each file first")
                ->capture_default_str(),
              "-n", std::numeric_limits<int>::max());
  auto* err = logs->add_flag("--err", lo->err_only, "Only stderr");
  auto* out = logs->add_flag("--out", lo->out_only, "Only stdout");
  err->excludes(out);
  logs->add_flag("--json", lo->json,
                 R"(One JSON object a line: {"file","app","stream":"out"|"err","line"})");
  logs->callback([lo] { run_logs(*lo); });

  auto fo = std::make_shared<flush_options>();
  auto* flush = app.add_subcommand("flush", "Empty the log files of apps (rotated ones removed)");
  flush->add_option("names", fo->names, "Apps or groups (default: all)");
  flush->add_flag("--json", fo->json, "Print the daemon's result as JSON");
  flush->callback([fo] { run_flush(*fo); });
}

} // namespace arbor::cli
