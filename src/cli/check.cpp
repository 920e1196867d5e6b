#include <cstdio>

#include "cli/commands.hpp"
#include "config/loader.hpp"

namespace arbor::cli {

int check(const std::string& file) {
  auto res = config::load_file(file);
  if (!res.ok()) {
    for (auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::fprintf(stderr, "%s: %zu error%s\n", file.c_str(), res.errors.size(),
                 res.errors.size() == 1 ? "" : "s");
    return exit_bad_config;
  }
  std::fputs(config::render_tree(*res.tree).c_str(), stdout);
  return exit_ok;
}

} // namespace arbor::cli
