// The client verbs: registration and the pure checks of their arguments.

#include "cli/verbs.hpp"

#include <filesystem>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "config/units.hpp"

namespace arbor::cli {

void add_client_verbs(CLI::App& app) {
  add_status_verb(app);
  add_tree_verb(app);
  add_show_verb(app);
  add_control_verbs(app);
  add_scale_verb(app);
  add_signal_verb(app);
  add_apply_verb(app);
  add_events_verb(app);
  add_top_verb(app);
}

std::optional<uint32_t> parse_count(const std::string& text, const std::string& what,
                                    uint32_t max, std::string& error) {
  auto bad = [&](const std::string& why) -> std::optional<uint32_t> {
    error = what + " must be " + why + ", got '" + text + "'";
    return std::nullopt;
  };
  if (text.empty()) return bad("a non-negative integer");
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad("a non-negative integer");
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > max) return bad("at most " + std::to_string(max));
  }
  return static_cast<uint32_t>(n);
}

std::optional<uint32_t> parse_instance_count(const std::string& text, std::string& error) {
  return parse_count(text, "N", max_instances, error);
}

void check_count(CLI::Option* opt, const std::string& what, uint32_t max) {
  opt->check(CLI::Validator(
    [what, max](std::string& text) {
      std::string error;
      return parse_count(text, what, max, error) ? std::string{} : error;
    },
    what, "count"));
}

std::optional<std::string> parse_signal_arg(const std::string& text, std::string& error) {
  auto sig = config::parse_signal(text);
  if (!sig) {
    error = "unknown signal '" + text + "' (give a name like HUP, SIGTERM or USR1, or its number)";
    return std::nullopt;
  }
  auto name = config::signal_name(*sig); // "SIGHUP"
  return name.substr(3);
}

std::string absolute_config_path(const std::string& file, const std::string& cwd) {
  std::filesystem::path p{file};
  if (p.is_relative()) p = std::filesystem::path{cwd} / p;
  return p.lexically_normal().string();
}

bool stdout_color() { return use_color(STDOUT_FILENO); }

} // namespace arbor::cli
