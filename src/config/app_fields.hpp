#pragma once

// The keys of an app, once: what each is called in the config, which part of
// app_spec it fills, how the protocol writes it, how `show` prints its number
// and how `check` labels it. The TOML reader (toml/app_keys.cpp), `show`
// (cli/render_show.cpp), the protocol's JSON (daemon/control_json.cpp),
// `check` (toml/render.cpp) and app_spec::same_run_spec all walk this table.
// Pure: no toml++, no CAF.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "arbor/spec.hpp"

namespace arbor::config {

/// How a number of this key reads and prints in the config's own syntax.
enum class field_unit : uint8_t {
  plain,
  millis,  ///< a duration, sent as milliseconds ("5s", "1500ms")
  seconds, ///< a duration, sent as seconds (a group's `period`)
  bytes,   ///< a size, sent as bytes ("512M")
};

struct app_field {
  std::string_view key;
  field_unit unit = field_unit::plain;
  /// Left out of the protocol's JSON while it holds app_spec's default.
  bool omitted_at_default = false;
  /// Whether two specs agree on it; empty for a key with no member of its
  /// own (`restart_on_exit` is another spelling of `restart`).
  std::function<bool(const app_spec&, const app_spec&)> same;
  /// Writes the value under `key`; empty when `same` is.
  std::function<void(const app_spec&, nlohmann::json&)> to_json;
  /// Its part of `check`'s line ("port=3000"), "" when left out; empty
  /// function for keys `check` never shows.
  std::function<std::string(const app_spec&)> check_label;
};

/// Every key an app table accepts, in the order the config documents them.
const std::vector<app_field>& app_fields();

/// The keys of app_fields(), in order (for suggestions).
const std::vector<std::string_view>& app_keys();
bool is_app_key(std::string_view key);

/// Keys a group accepts: strategy, intensity, period.
const std::vector<std::string_view>& group_keys();
bool is_group_key(std::string_view key);

/// The unit of an app or group key; plain for keys neither knows.
field_unit unit_of(std::string_view key);

/// What watch mode never looks at, whatever `watch_ignore` adds: version
/// control, dependencies, caches, logs (arbor's own too) and editors' files.
const std::vector<std::string>& default_watch_ignore();

/// An umask as the config writes it: 027 → "0027"; "" for -1 (none).
std::string umask_text(int umask);

/// The keys whose values differ between `a` and `b`, in table order.
std::vector<std::string_view> changed_keys(const app_spec& a, const app_spec& b);

/// A hash of everything `apply` compares (every key but `instances`): two
/// specs that would not restart each other hash alike. FNV-1a over the
/// protocol's JSON of the keys, stable across daemons of one version.
uint64_t run_spec_hash(const app_spec& a);

} // namespace arbor::config
