#pragma once

// `.env` files: KEY=VALUE lines, optional `export ` prefix, `#` comments,
// blank lines, '...' (literal) and "..." (with \n \t \\ \" \$ escapes) values.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arbor::config::detail {

struct dotenv_error {
  size_t line = 0; ///< 1-based line in the env file
  std::string message;
};

struct dotenv_result {
  std::vector<std::pair<std::string, std::string>> vars; ///< in file order
  std::vector<dotenv_error> errors;                      ///< every bad line
};

dotenv_result parse_dotenv(std::string_view text);

/// A usable environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool valid_env_name(std::string_view name);

} // namespace arbor::config::detail
