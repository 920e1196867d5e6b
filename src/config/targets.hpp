#pragma once

// Names as operators type them (`web`, `web.api`, `api`, `web.api#1`, `all`)
// resolved against a tree spec. Pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arbor/spec.hpp"

namespace arbor::config {

struct target {
  std::string path;                 ///< full dotted path of an app or group; "" = the root
  bool is_group = false;
  std::optional<uint32_t> instance; ///< set for "app#i"
  /// The address the tree routes by: "web.api", "web.api#1", "web", "".
  std::string address() const;
};

struct resolution {
  std::vector<target> targets;      ///< in the order given, duplicates removed
  std::string error_code;           ///< "", "not_found", "ambiguous", "invalid_argument"
  std::string error;                ///< for humans, with a suggestion where there is one
  bool ok() const { return error_code.empty(); }
};

/// App path -> how many instances it runs now. The tree alone knows (scale
/// changes it without a new spec), so callers ask it.
using instance_counts = std::map<std::string, uint32_t>;

/// Resolves every name; the first one that fails makes the whole call fail.
/// An app's last segment alone is accepted when exactly one app has it.
/// "app#N" must name one of the app's `running` instances.
resolution resolve_targets(const group_spec& root, const std::vector<std::string>& names,
                           const instance_counts& running = {});

/// Every app path under `g` (recursively), in start order.
std::vector<std::string> app_paths(const group_spec& g);

const app_spec* find_app(const group_spec& root, const std::string& path);
app_spec* find_app(group_spec& root, const std::string& path);
const group_spec* find_group(const group_spec& root, const std::string& path);

} // namespace arbor::config
