#include <cstdio>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "config/loader.hpp"

namespace arbor::cli {

int check(const std::string& file) {
  auto res = config::load_file(file);
  if (!res.ok()) {
    for (auto& e : res.errors) fmt::print(stderr, "{}\n", e.to_string());
    fmt::print(stderr, "{}: {} error{}\n", file, res.errors.size(),
               res.errors.size() == 1 ? "" : "s");
    return 2;
  }
  fmt::print("{}", config::render_tree(*res.tree));
  return 0;
}

} // namespace arbor::cli
