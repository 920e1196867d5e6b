// Out-of-line parts of config/loader.hpp that do not need toml++.

#include "config/loader.hpp"

namespace arbor::config {

std::string diagnostic::to_string() const {
  if (where.line == 0) return where.file.empty() ? message : where.file + ": " + message;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.col) + ": "
         + message;
}

} // namespace arbor::config
