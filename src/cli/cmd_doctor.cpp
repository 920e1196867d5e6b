// `arbor doctor`: what of arbor works on this host and what is degraded,
// each with its fix. Run by the CLI itself, no daemon: the host it checks
// is the one a daemon started from this shell would get (its cgroup, its
// descriptor limit, its home).

#include <cstdio>
#include <memory>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/client_call.hpp"
#include "cli/commands.hpp"
#include "cli/doctor_checks.hpp"
#include "config/loader.hpp"

namespace arbor::cli {

namespace {

struct doctor_options {
  std::string file; ///< "" = arbor.toml in the cwd if there is one (as `up`)
  bool json = false;
};

/// The config whose descriptors are judged: the one named, else the one
/// `arbor up` would take; none when neither is given nor there.
std::optional<config_budget> budget_of(const std::string& named) {
  auto file = named.empty() ? std::string{"arbor.toml"} : named;
  if (named.empty() && ::access(file.c_str(), F_OK) != 0) return std::nullopt;
  config_budget b;
  b.file = absolute_path(file);
  auto res = config::load_file(b.file);
  if (!res.ok()) {
    b.load_error = res.errors.empty() ? "unknown error" : res.errors.front().to_string();
    if (res.errors.size() > 1)
      b.load_error += " (and " + std::to_string(res.errors.size() - 1) + " more)";
    return b;
  }
  b.need = config::descriptors_needed(res.tree->root);
  return b;
}

void run_doctor(const doctor_options& opts) {
  auto checks = judge_host(os::probe_host(arbor_home()), budget_of(opts.file));
  if (opts.json) print_json(checks_json(checks));
  else std::fputs(render_checks(checks).c_str(), stdout);
  if (int code = doctor_exit_code(checks); code != 0) throw CLI::RuntimeError(code);
}

} // namespace

void add_doctor_verb(CLI::App& app) {
  auto opts = std::make_shared<doctor_options>();
  auto* cmd = app.add_subcommand(
    "doctor", "Check this host: what of arbor works, what is degraded, and each fix");
  cmd->add_option("-c,--config", opts->file,
                  "Also check that this config's descriptors fit (default: ./arbor.toml if there)");
  cmd->add_flag("--json", opts->json, "Print [{check, status, detail, fix, needed}] as JSON");
  cmd->footer("Exit status: 1 when a needed check (the home, pidfd, the config's descriptors) "
              "is missing or in error, else 0.");
  cmd->callback([opts] { run_doctor(*opts); });
}

} // namespace arbor::cli
