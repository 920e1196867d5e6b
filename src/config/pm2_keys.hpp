#pragma once

// PM2's app keys and what arbor calls them: the unknown-key message names
// arbor's key for a PM2 name, and `arbor import` converts with the same table.

#include <string>
#include <string_view>

namespace arbor::config {

/// What arbor does with one PM2 app key.
struct pm2_key {
  std::string_view pm2;    ///< PM2's name, e.g. "max_memory_restart"
  std::string_view arbor;  ///< arbor's key ("" when there is none)
  std::string_view how;    ///< one line: how to say it in arbor
};

/// The entry for `key`, or nullptr when PM2 has no such app key.
const pm2_key* find_pm2_key(std::string_view key);

/// " (PM2's 'autorestart': ...)" for a PM2 key that arbor does not know
/// under that name, or "".
std::string pm2_hint(std::string_view key);

} // namespace arbor::config
