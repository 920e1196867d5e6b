#pragma once

// Size limits of a tree spec, so that no config can make arbor recurse,
// allocate or print without bound: how deep groups nest, how long and from
// which characters names are, how large an app's values are. Pure: no
// toml++, no CAF. `validate(tree_spec&)` runs check_limits; the TOML reader
// stops descending at max_group_depth with the same message, before a deep
// file can exhaust the stack.

#include <cstddef>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "config/loader.hpp"

namespace arbor::config {

/// Most groups an app may be nested in (the root not counted): [a.b.app] is 2.
inline constexpr size_t max_group_depth = 16;
/// Longest name of one app or group (one segment of a dotted path), in bytes.
inline constexpr size_t max_name_length = 64;
/// Most bytes of each of an app's `command`, `args` (all together), `env`
/// (every name and value together) and `cwd`.
inline constexpr size_t max_value_bytes = 64 * 1024;

/// "group 'a.b.c...' is nested 17 deep; groups nest at most 16 deep ...":
/// the error of a group past max_group_depth (`depth` counts the root's
/// children as 1).
std::string too_deep_message(const std::string& group_path, size_t depth);

/// Appends one diagnostic per name, nesting or value past its limit (names:
/// letters, digits, '_' and '-' only). Looks no deeper than max_group_depth + 1.
void check_limits(const tree_spec& tree, std::vector<diagnostic>& errors);

} // namespace arbor::config
