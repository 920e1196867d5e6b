// Helpers shared by the CLI and the daemon binary (no CAF).

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/stat.h>

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

home_problem judge_home(const std::string& home, const struct stat& st, uid_t me) {
  if (!S_ISDIR(st.st_mode)) return {"ARBOR_HOME " + home + " is not a directory", ""};
  bool owner_ok = st.st_uid == me || st.st_uid == 0;
  if (owner_ok && (st.st_mode & 022) == 0) return {};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  auto uid = std::to_string(me);
  return {"refusing ARBOR_HOME " + home + ": owned by uid " + std::to_string(st.st_uid)
            + " with mode " + mode + "; it must be owned by you (uid " + uid
            + ") or root and writable by no one else",
          "chown " + uid + " " + home + " && chmod 700 " + home};
}

std::string check_home(const std::string& home) {
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0) {
    auto slash = home.rfind('/');
    std::error_code ec;
    if (slash != std::string::npos && slash > 0) os::make_dirs(home.substr(0, slash), ec);
    if (::mkdir(home.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create ARBOR_HOME " + home + ": " + std::strerror(errno);
    if (::stat(home.c_str(), &st) != 0)
      return "cannot stat ARBOR_HOME " + home + ": " + std::strerror(errno);
  }
  auto problem = judge_home(home, st, ::geteuid());
  return problem.fix.empty() ? problem.what : problem.what + " (fix: " + problem.fix + ")";
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
               res.errors.size() == 1 ? "" : "s",
               file.empty() ? "the apps `arbor start` added" : file.c_str());
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
