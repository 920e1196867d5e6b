// `arbor import` (a PM2 ecosystem file to arbor.toml) and `arbor init` (a
// commented arbor.toml for the commands given): a config to start from, each
// loaded back through the config reader before it is written.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/pm2_import.hpp"
#include "config/loader.hpp"
#include "config/shell_split.hpp"
#include "os/spawn.hpp"

namespace arbor::cli {

namespace {

namespace fs = std::filesystem;

struct setup_options {
  std::string file;                  ///< import: the ecosystem file
  std::vector<std::string> commands; ///< init: one app each
  std::string out;                   ///< "" = stdout (import) / arbor.toml (init)
  bool force = false;
};

/// What `node` prints for an ecosystem module: its exports as JSON. Running
/// the file is what PM2 itself does with it.
std::string exports_as_json(const std::string& file) {
  std::string error;
  const char* path = std::getenv("PATH");
  const std::string node = os::resolve_executable("node", path ? path : "", "", error);
  if (node.empty())
    fail(exit_failed, "reading " + file + " needs node (" + error
                        + "); or give the ecosystem as JSON (ecosystem.json)");
  const std::string js =
    "const m = require(require('path').resolve(process.argv[1]));"
    "process.stdout.write(JSON.stringify(m && m.default ? m.default : m));";
  os::spawn_plan plan{node, {"node", "-e", js, file}, os::current_environment(), ""};
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) fail(exit_failed, std::string{"pipe: "} + std::strerror(errno));
  auto child = plan.spawn(p[1], STDERR_FILENO);
  ::close(p[1]);
  if (!child.ok()) {
    ::close(p[0]);
    fail(exit_failed, child.what);
  }
  std::string out;
  char buf[65536];
  pollfd pfd{p[0], POLLIN, 0};
  while (::poll(&pfd, 1, 30000) > 0) {
    const ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  ::kill(child.pid, SIGKILL); // no-op once it exited; bounds a file that never ends
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(exit_failed, "node could not load " + file + " (its message is above)");
  return out;
}

nlohmann::json read_ecosystem(const std::string& file) {
  std::string text;
  if (fs::path{file}.extension() == ".json") {
    std::ifstream in{file};
    if (!in) fail(exit_failed, "cannot read " + file + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else {
    if (!fs::exists(file)) fail(exit_failed, "cannot read " + file + ": no such file");
    text = exports_as_json(file);
  }
  auto j = nlohmann::json::parse(text, nullptr, false, true);
  if (j.is_discarded()) fail(exit_bad_config, file + " is not valid JSON");
  return j;
}

/// Loads `text` as `out` would be loaded; a config arbor itself wrote that
/// does not load is a bug, said as such.
void check_loads(const std::string& text, const std::string& out) {
  const fs::path where = fs::absolute(out.empty() ? "arbor.toml" : out);
  auto res = config::load_string(text, where.string(), where.parent_path().string());
  if (res.ok()) return;
  std::fputs(text.c_str(), stderr);
  for (auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  fail(exit_bad_config, "the converted config above does not load (what to change is above)");
}

void write_out(const std::string& text, const std::string& out, bool force) {
  if (out.empty() || out == "-") {
    std::fputs(text.c_str(), stdout);
    return;
  }
  if (!force && fs::exists(out)) fail(exit_failed, out + " exists (--force replaces it)");
  std::ofstream f{out, std::ios::trunc};
  if (!(f << text) || !(f.flush())) fail(exit_failed, "cannot write " + out + ": " + std::strerror(errno));
  std::fprintf(stderr, "arbor: wrote %s (check it: arbor check %s)\n", out.c_str(), out.c_str());
}

void run_import(const setup_options& o) {
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  auto r = import_pm2(read_ecosystem(o.file), cpus);
  if (!r.error.empty()) fail(exit_bad_config, o.file + ": " + r.error);
  const std::string text = "# Converted from " + fs::path{o.file}.filename().string()
                           + " by `arbor import`; check it with `arbor check`.\n\n" + r.toml;
  check_loads(text, o.out);
  for (auto& n : r.notes) std::fprintf(stderr, "arbor import: %s\n", n.c_str());
  write_out(text, o.out, o.force);
}

/// The app name for one command: the script after an interpreter, else the
/// program, without directory or extension.
std::string name_for(const std::vector<std::string>& words) {
  static const char* interpreters[] = {"node", "python", "python3", "bash", "sh", "ruby",
                                       "perl", "php", "deno", "bun"};
  std::string pick = words.empty() ? "app" : words.front();
  const std::string prog = pick.substr(pick.rfind('/') + 1);
  for (const char* i : interpreters)
    if (prog == i && words.size() > 1 && words[1].front() != '-') pick = words[1];
  pick = pick.substr(pick.rfind('/') + 1);
  return app_name_from(pick.substr(0, pick.find('.')));
}

void run_init(const setup_options& o) {
  std::vector<std::string> commands = o.commands;
  if (commands.empty()) commands.push_back("python3 -m http.server 8000");
  std::string text =
    "# arbor.toml: one table per app; see the README's \"Config\" for every key.\n"
    "# Check it with `arbor check`; run it with `arbor up` (a daemon; `arbor status`,\n"
    "# `arbor logs -f`, `arbor down`) or `arbor run` (in the foreground, for containers).\n";
  std::vector<std::string> taken;
  for (const auto& cmd : commands) {
    std::string error;
    auto split = config::detail::shell_split(cmd, error);
    if (!split) fail(exit_failed, "'" + cmd + "': " + error);
    std::string name = name_for(split->words);
    const std::string base = name;
    for (int n = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++n)
      name = base + "-" + std::to_string(n);
    taken.push_back(name);
    const bool shell = split->shell_syntax_at != std::string_view::npos;
    text += "\n[" + name + "]\ncommand = " + toml_string(cmd) + "\n";
    if (shell) text += "shell = true               # it uses shell syntax: run by /bin/sh -c\n";
    if (taken.size() > 1) continue; // the keys below once, for the first app
    text +=
      "# instances = 2             # N copies; each gets ARBOR_INSTANCE (and PORT = port + i)\n"
      "# restart = \"on_failure\"    # or \"always\", \"never\"\n"
      "# env = { NODE_ENV = \"production\" }\n"
      "# port = 3000               # PORT for instance i is 3000 + i\n"
      "# health_check = \"http://127.0.0.1:{port}/health\"   # ready and alive when it answers 200\n"
      "# max_memory = \"512M\"       # graceful restart above it\n"
      "# cron_restart = \"0 4 * * *\"\n";
  }
  check_loads(text, o.out);
  write_out(text, o.out, o.force);
}

} // namespace

void add_setup_verbs(CLI::App& app) {
  auto imp = std::make_shared<setup_options>();
  auto* cmd = app.add_subcommand(
    "import", "Convert a PM2 ecosystem file (.js, .cjs or .json) to arbor's TOML");
  cmd->add_option("file", imp->file, "ecosystem.config.js or ecosystem.json")->required();
  cmd->add_option("-o,--output", imp->out, "Write the config there (default: print it)");
  cmd->add_flag("--force", imp->force, "Replace the output file if it exists");
  cmd->callback([imp] { run_import(*imp); });

  auto ini = std::make_shared<setup_options>();
  ini->out = "arbor.toml";
  auto* init = app.add_subcommand(
    "init", "Write a commented arbor.toml with one app per command given");
  init->add_option("commands", ini->commands,
                   "Commands, one app each, e.g. \"node server.js\" \"python3 worker.py\"");
  init->add_option("-o,--output", ini->out, "Where to write it ('-': print it)")->capture_default_str();
  init->add_flag("--force", ini->force, "Replace the file if it exists");
  init->callback([ini] { run_init(*ini); });
}

} // namespace arbor::cli
