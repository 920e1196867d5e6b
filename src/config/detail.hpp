#pragma once

// Internals of the config loader shared by its translation units. toml++ types
// appear here and must not leak into include/arbor/.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "arbor/spec.hpp"
#include "config/app_fields.hpp"
#include "config/loader.hpp"
#include "config/units.hpp"

namespace arbor::config::detail {

/// Where diagnostics go while one file is loaded.
struct context {
  std::string file;                 ///< name shown in diagnostics
  std::string base_dir;             ///< absolute, normal; relative paths resolve against it
  std::vector<diagnostic> errors;
  /// Values the reader refused (so the spec lacks them): validate()'s
  /// findings at these positions would only repeat the reader's.
  std::vector<source_pos> refused;
  std::string env;                  ///< the selected environment (load_options::env)
  std::vector<std::string> envs;    ///< every env_<name> an app defines, sorted, once

  source_pos pos(const toml::source_region& at) const;
  void error(const toml::source_region& at, std::string message);
  void error(const toml::node& at, std::string message) { error(at.source(), std::move(message)); }
};

/// One entry of a table, with the position that decides file order.
struct entry {
  std::string_view key;
  const toml::key* key_node;
  const toml::node* value;
  /// Position of the key (where the entry is first written), else the value's.
  const toml::source_region& key_source() const;
};

/// Entries of `t` in file order (toml++ iterates in key order).
std::vector<entry> in_file_order(const toml::table& t);

/// "string", "integer", "float", "boolean", "array", "table", "date", ...
const char* type_name(const toml::node& n);

// Typed reads. Each reports "'key' must be ..., got ..." at the value's
// position and returns nullopt on a wrong type or value.
std::optional<std::string> get_string(context& cx, const toml::node& n, std::string_view key);
std::optional<bool> get_bool(context& cx, const toml::node& n, std::string_view key);
std::optional<int64_t> get_integer(context& cx, const toml::node& n, std::string_view key,
                                   int64_t min, int64_t max);
std::optional<millis> get_duration(context& cx, const toml::node& n, std::string_view key,
                                   millis bare_unit);
std::optional<uint64_t> get_size(context& cx, const toml::node& n, std::string_view key);

/// The whole file, or nullopt with `error` set to strerror text.
/// `open_flags`: more flags for open(2) (O_NOFOLLOW for the home's files).
std::optional<std::string> read_whole_file(const std::string& path, std::string& error,
                                           int open_flags = 0);

/// Absolute, lexically normal, without a trailing slash.
std::string absolute_path(const std::string& base, std::string_view path);

/// Reads every key of an app table into `app` (name and where already set),
/// with each key's position in app.key_where; depends_on stays as written
/// (validate() resolves it).
void read_app(context& cx, const toml::table& t, app_spec& app);

/// `env` and the `env_<name>` overlays: a table of NAME = string, number or
/// boolean, each appended to `out` with its position as "<key>.NAME".
void read_env_table(context& cx, const toml::node& n, std::string_view key, app_spec& app,
                    std::vector<std::pair<std::string, std::string>>& out);
/// `env_<name>` (not `env_file`): an environment overlay's key.
bool is_env_overlay_key(std::string_view key);
/// Reads every `env_<name>` entry of an app (noting the names in cx.envs)
/// and lays the selected one (cx.env) over app.env: per key, later wins.
void read_env_overlays(context& cx, const std::vector<entry>& overlays, app_spec& app);

/// Reads `health_check` (an http:// URL string or a table) into the app,
/// with its keys' positions; validate() checks the target and timing.
void read_health_check(context& cx, const toml::node& n, app_spec& app);
/// `listen`: an address, an inline table, or an array of either.
void read_listen(context& cx, const toml::node& n, app_spec& app);
void read_memory_max(context& cx, const toml::node& n, app_spec& app);
void read_cpu_max(context& cx, const toml::node& n, app_spec& app);

/// `user`, `group`: a name, or an id as a number or a string.
void read_id(context& cx, const toml::node& n, std::string_view key, std::string& out);
/// `umask`: "027", "0027" (octal text) or TOML's 0o027.
void read_umask(context& cx, const toml::node& n, app_spec& app);
/// `rlimits`: a table of limits (os/credentials.hpp names them), each a
/// number, "unlimited", a size where the limit counts bytes, or {soft, hard}.
void read_rlimits(context& cx, const toml::node& n, app_spec& app);

/// Shortest text that reads back as `d` ("1.5", "100", "1e+20").
std::string format_number(double d);

} // namespace arbor::config::detail
