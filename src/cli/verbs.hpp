#pragma once

// The client verbs (one cmd_*.cpp each) and their argument checks. The checks
// are pure so they are tested without CLI11 or a daemon.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}

namespace arbor::cli {

void add_status_verb(CLI::App& app);   ///< status, alias ls (cmd_status.cpp)
void add_tree_verb(CLI::App& app);     ///< tree (cmd_tree.cpp)
void add_show_verb(CLI::App& app);     ///< show (cmd_show.cpp)
void add_control_verbs(CLI::App& app); ///< start, stop, restart (cmd_control.cpp)
void add_start_verb(CLI::App& app);    ///< start, and delete (cmd_start.cpp)
void add_scale_verb(CLI::App& app);    ///< scale (cmd_scale.cpp)
void add_signal_verb(CLI::App& app);   ///< signal (cmd_signal.cpp)
void add_apply_verb(CLI::App& app);    ///< apply (cmd_apply.cpp)
void add_events_verb(CLI::App& app);   ///< events (cmd_events.cpp)
void add_top_verb(CLI::App& app);      ///< top (cmd_top.cpp, src/top/)

/// `start`, `stop`, `restart` or `reload` of `names` (cmd_control.cpp):
/// the daemon's answer printed as `past` ("started") lines, or as JSON.
void run_control_verb(const std::string& verb, const std::string& past,
                      const std::vector<std::string>& names, bool json, int timeout_ms);

/// Most instances `scale` accepts (the config's own limit for `instances`).
constexpr uint32_t max_instances = 10000;

/// A count argument named `what`: a decimal integer in [0, max] ("4", "0").
/// Anything else (negative, "1.5", "4x", too large) is nullopt with `error`
/// set ("N must be a non-negative integer, got '-1'").
std::optional<uint32_t> parse_count(const std::string& text, const std::string& what,
                                    uint32_t max, std::string& error);

/// `scale`'s N: parse_count in [0, max_instances].
std::optional<uint32_t> parse_instance_count(const std::string& text, std::string& error);

/// Makes `opt` take only parse_count's counts, with its message.
void check_count(CLI::Option* opt, const std::string& what, uint32_t max);

/// `signal`'s SIG: "HUP", "SIGHUP", "sighup" or "1" → "HUP" (the name the
/// protocol takes). Unknown signals are nullopt with `error` set.
std::optional<std::string> parse_signal_arg(const std::string& text, std::string& error);

/// `apply`'s FILE made absolute against `cwd` (the CLI's, not the daemon's),
/// lexically normalized.
std::string absolute_config_path(const std::string& file, const std::string& cwd);

/// The colour decision for stdout (commands.hpp's use_color).
bool stdout_color();

/// After `up` or `apply`: the instances of `apps` (every app when empty)
/// that could not be started (state `failed`), each said on stderr with its
/// reason; then the verb fails with exit 1. Returns when none is.
void fail_on_unstarted(const std::vector<std::string>& apps);

} // namespace arbor::cli
