#pragma once

// The dashboard's files (src/web/), compiled into the binary by CMake
// (cmake/embed_assets.cmake writes web_assets.cpp into the build tree).

#include <cstddef>
#include <vector>

namespace arbor::detail {

struct web_asset {
  const char* path;          ///< as served: "/index.html", "/app.js"
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

const std::vector<web_asset>& web_assets();

} // namespace arbor::detail
