#pragma once

// TOML config → tree_spec. Every problem is reported as `file:line:col:
// message`, all at once; a config with any error yields no tree.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbor/spec.hpp"

namespace arbor::config {

struct diagnostic {
  source_pos where;
  std::string message;
  /// "file:line:col: message" (just "file: message" when line is 0).
  std::string to_string() const;
};

struct load_result {
  std::optional<tree_spec> tree;    ///< set only when errors is empty
  std::vector<diagnostic> errors;   ///< sorted by position
  bool ok() const { return tree.has_value(); }
};

struct load_options {
  /// The environment selected (`--env NAME`): each app's `env_NAME` table
  /// overlays its `env` (per key, on top of env_file then env). "" = none;
  /// a name no app defines is an error listing the ones the file defines.
  std::string env;
};

/// What may follow `env_` in an app's environment overlay: letters, digits,
/// '_' and '-', at least one.
bool is_env_name(std::string_view name);

/// Loads and validates a config file. Relative paths inside (cwd, env_file,
/// relative commands' cwd) are relative to the file's directory. Never throws.
load_result load_file(const std::string& path, const load_options& options = {});

/// Same, from text. `file_name` is used in diagnostics and as tree_spec::file;
/// `base_dir` resolves relative paths. Never throws.
load_result load_string(std::string_view text, const std::string& file_name,
                        const std::string& base_dir, const load_options& options = {});

/// Human-readable tree for `arbor check`: groups with their flags, apps with
/// their command, instances and restart settings, in start order.
std::string render_tree(const tree_spec& tree);

} // namespace arbor::config
