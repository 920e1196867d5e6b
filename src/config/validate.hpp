#pragma once

// The rules a tree spec must meet however it was built: read from TOML by the
// config loader, or built in code by an embedder (supervision_tree's
// constructor runs them too). Pure: no toml++, no CAF.

#include <cstdint>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "config/loader.hpp"

namespace arbor::config {

/// Most instances one app may have.
inline constexpr uint32_t max_instances = 10000;

/// Resolves every depends_on name to a full dotted path, refuses unknown,
/// ambiguous and cyclic dependencies, checks the ranges and combinations of
/// each app's keys, and when all is well puts every group's children in start
/// order (after the siblings they depend on, file order otherwise). Errors
/// point at the key's value where the spec knows it (app_spec::key_where),
/// else at the app; a spec built in code has no file, so its messages are the
/// bare text. Running it again on its own result changes nothing.
std::vector<diagnostic> validate(tree_spec& tree);

/// Every diagnostic's to_string(), one per line.
std::string to_string(const std::vector<diagnostic>& errors);

namespace detail {

/// Resolves depends_on names in place; reports unknown names and cycles.
void resolve_dependencies(group_spec& root, std::vector<diagnostic>& errors);

/// Reorders every group's children so that each comes after the siblings it
/// depends on (file order otherwise). Call on a tree without errors.
void order_by_dependencies(group_spec& g);

} // namespace detail

} // namespace arbor::config
