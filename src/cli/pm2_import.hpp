#pragma once

// `arbor import`: a PM2 ecosystem file (already read as JSON) to arbor's TOML.
//
//   auto r = import_pm2(json::parse(text), 4);
//   if (!r.error.empty()) ...;        // not an ecosystem: nothing converted
//   std::cout << r.toml;              // one [table] per app, in PM2's order
//   for (auto& n : r.notes) ...;      // "api: exec_mode = \"cluster\" not converted: ..."

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <toml++/toml.h>

namespace arbor::cli {

struct pm2_import_result {
  std::string toml;                ///< the config ("" with an error)
  std::vector<std::string> notes;  ///< what was not converted, or converted with a change
  std::string error;               ///< the file is not an ecosystem
};

/// Converts `{apps: [...]}`, an array of apps, or one app object. `cpus`:
/// what PM2's instances = "max" / 0 / -1 stand for on this machine.
pm2_import_result import_pm2(const nlohmann::json& ecosystem, unsigned cpus);

/// `t` as TOML in arbor's own style: basic "strings", no indentation.
std::string toml_text(const toml::table& t);
/// One string as a TOML basic string ("..." with escapes).
std::string toml_string(const std::string& s);

/// An app name arbor accepts ([A-Za-z0-9_-], at most 64 bytes) made from
/// `text` (other bytes become '-'); "app" when nothing is left.
std::string app_name_from(const std::string& text);

/// The name PM2 gives a script: its file name up to the first '.'
/// ("/srv/api/server.js" -> "server").
std::string script_name(const std::string& script);

/// The default name of `arbor start -- CMD ARGS`, as PM2 names `pm2 start
/// app.js`: the script an interpreter (node, python3, bun run, ...) is given,
/// else the program's own name; made an app name (app_name_from).
std::string command_name(const std::vector<std::string>& words);

} // namespace arbor::cli
