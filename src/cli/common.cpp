// Helpers shared by the CLI and the daemon binary (no CAF).

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include "cli/commands.hpp"
#include "config/loader.hpp"
#include "os/paths.hpp"

namespace arbor::cli {

std::string arbor_home() {
  std::string h;
  if (const char* e = std::getenv("ARBOR_HOME"); e && *e) {
    h = e;
  } else {
    const char* home = std::getenv("HOME");
    h = std::string{home && *home ? home : "/root"} + "/.arbor";
  }
  return absolute_path(h);
}

std::string socket_path() {
  return arbor_home() + "/arbor.sock";
}

bool use_color(int fd) {
  const char* no = std::getenv("NO_COLOR");
  return ::isatty(fd) && !(no && *no);
}

std::string absolute_path(const std::string& file) {
  auto p = os::absolute(file);
  return p.empty() ? file : p;
}

std::string daemon_binary() {
  return os::beside_exe("arbor-daemon");
}

bool report_errors(const config::load_result& res, const std::string& file) {
  if (res.ok()) return false;
  for (auto& e : res.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  std::fprintf(stderr, "arbor: %zu error%s in %s; nothing started\n", res.errors.size(),
               res.errors.size() == 1 ? "" : "s", file.c_str());
  return true;
}

size_t count_apps(const group_spec& g, size_t& instances) {
  size_t n = 0;
  for (auto& c : g.children) {
    if (c.type == node_spec::kind::group) {
      n += count_apps(c.group, instances);
    } else {
      ++n;
      instances += c.app.instances;
    }
  }
  return n;
}

} // namespace arbor::cli
