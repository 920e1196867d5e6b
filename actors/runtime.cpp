#include "runtime.hpp"

#include "os/spawn.hpp"
#include "os/paths.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <sys/stat.h>

namespace arbor::detail {

std::shared_ptr<const std::vector<std::string>> runtime::app_env(
  const std::string& app, const std::vector<std::pair<std::string, std::string>>& env) {
  std::lock_guard<std::mutex> g{env_mtx_};
  auto& e = envs_[app];
  if (auto m = e.merged.lock(); m && e.env == env) return m;
  auto extra = env;
  extra.emplace_back("ARBOR_APP", app);
  auto m = std::make_shared<const std::vector<std::string>>(os::merge_environment(base_env, extra));
  e.env = env;
  e.merged = m;
  return m;
}

probe::notify_listener* runtime::notify(std::string& error) {
  std::lock_guard<std::mutex> g{lazy_};
  if (notify_) return notify_.get();
  std::string dir = runtime_dir;
  if (dir.empty()) {
    const char* base = std::getenv("XDG_RUNTIME_DIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/arbor-notify-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      error = "cannot make a directory for notify sockets: " + std::string(std::strerror(errno));
      return nullptr;
    }
    dir = made_dir_ = tmpl;
  } else {
    std::error_code ec;
    os::make_dirs(dir, ec);
    if (ec) {
      error = "cannot make " + dir + ": " + ec.message();
      return nullptr;
    }
  }
  ::chmod(dir.c_str(), 0700);
  try {
    notify_ = std::make_unique<probe::notify_listener>(dir);
  } catch (const std::exception& e) {
    error = std::string{"notify listener: "} + e.what();
    return nullptr;
  }
  return notify_.get();
}

} // namespace arbor::detail
