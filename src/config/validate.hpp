#pragma once

// The rules a tree spec must meet however it was built: read from TOML by the
// config loader, or built in code by an embedder (supervision_tree's
// constructor runs them too). Pure: no toml++, no CAF.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbor/spec.hpp"
#include "config/loader.hpp"

namespace arbor::config {

/// Most instances one app may have.
inline constexpr uint32_t max_instances = 10000;
/// Most rotated log files one app may keep.
inline constexpr uint32_t max_log_files = 1000;
/// Highest exit status a process can report.
inline constexpr int max_exit_code = 255;

/// Checks names (a child's last segment: not empty, no '.', '#' or
/// whitespace, not `all`; unique), every app's command, values, ranges (no
/// negative durations) and combinations, every group's period and the
/// metrics address; resolves every depends_on name to a full dotted path,
/// refuses unknown, ambiguous and cyclic dependencies, and when all is well
/// puts every group's children in start order (after the siblings they
/// depend on, file order otherwise). Errors point at the key's value where
/// the spec knows it (key_where), else at the app or group; a spec built in
/// code has no file, so its messages are the bare text. Running it again on
/// its own result changes nothing.
std::vector<diagnostic> validate(tree_spec& tree);

/// Every diagnostic's to_string(), one per line.
std::string to_string(const std::vector<diagnostic>& errors);

/// "'key' must be between min and max, got value" ("at least min" when max
/// is INT64_MAX): one wording for the TOML reader and validate().
std::string range_message(std::string_view key, int64_t min, int64_t max, int64_t value);

namespace detail {

/// One app's command, values, ranges and combinations (app_rules.cpp).
void check_app(const app_spec& app, std::vector<diagnostic>& errors);

/// One app's `user`, `group`, `umask`, `rlimits`, `nice`, `oom_score_adj`:
/// ranges, and whether this arbor can apply them (identity_rules.cpp).
void check_identity(const app_spec& app, std::vector<diagnostic>& errors);

/// One app's health check: its target's form and placeholders, its timing.
void check_health(const app_spec& app, std::vector<diagnostic>& errors);

/// One app's `listen`: address forms, mode, owner, names (listen_rules.cpp).
void check_listen(const app_spec& app, std::vector<diagnostic>& errors);
/// No address bound by two apps (the same, or a port on every address and on one).
void check_listen_collisions(const std::vector<const app_spec*>& apps,
                             std::vector<diagnostic>& errors);

/// "host:port" with a non-empty host and a port 1..65535; an error text otherwise.
std::optional<std::string> host_port_error(std::string_view text, bool allow_port_placeholder);

/// True for 127.0.0.0/8, ::1 and "localhost" (a listen address's host).
bool is_loopback_host(std::string_view host);

/// Whether `key` was written in the config (a spec built in code has none).
bool written(const key_positions& keys, std::string_view key);

/// Resolves depends_on names in place; reports empty and unknown names and cycles.
void resolve_dependencies(group_spec& root, std::vector<diagnostic>& errors);

/// Reorders every group's children so that each comes after the siblings it
/// depends on (file order otherwise). Call on a tree without errors.
void order_by_dependencies(group_spec& g);

} // namespace detail

} // namespace arbor::config
