// The rules of `listen`: each address's form, a unix socket's mode and
// owner, the descriptor names; and, over the whole tree, no address bound
// by two apps.

#include <map>

#include "config/validate.hpp"
#include "os/listen_address.hpp"

namespace arbor::config::detail {

namespace {

/// "listen" for a single entry, "listen[i]" in an array (as the reader keys them).
std::string entry_key(const app_spec& app, size_t i) {
  auto indexed = "listen[" + std::to_string(i) + "]";
  return written(app.key_where, indexed) ? indexed : std::string{"listen"};
}

} // namespace

void check_listen(const app_spec& app, std::vector<diagnostic>& errors) {
  auto error = [&](const std::string& key, std::string message) {
    errors.push_back({app.where_of(key), std::move(message)});
  };
  if (app.listen.size() > os::max_listen_fds)
    error("listen", "'listen' names " + std::to_string(app.listen.size())
                      + " addresses in app '" + app.name + "'; at most "
                      + std::to_string(os::max_listen_fds) + " are handed to a process");
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < app.listen.size(); ++i) {
    const auto& e = app.listen[i];
    const auto key = entry_key(app, i);
    auto at = [&](const char* field) {
      auto k = key + "." + field;
      return written(app.key_where, k) ? k : key;
    };
    std::string why;
    auto addr = os::parse_listen_address(e.address, why);
    if (!addr) {
      error(at("address"), "'" + key + "': " + why);
      continue;
    }
    auto [first, fresh] = seen.emplace(addr->canonical(), i);
    if (!fresh)
      error(at("address"), "'" + key + "': " + addr->canonical() + " is already listed at '"
                             + entry_key(app, first->second) + "'");
    bool is_unix = addr->type == os::listen_address::kind::unix_path;
    if (!e.mode.empty() && !is_unix)
      error(at("mode"), "'" + key + ".mode' applies to unix sockets only");
    else if (!e.mode.empty() && !os::parse_socket_mode(e.mode))
      error(at("mode"), "'" + key + ".mode': '" + e.mode + "' is not an octal mode such as \"0660\"");
    if (!e.owner.empty() && !is_unix)
      error(at("owner"), "'" + key + ".owner' applies to unix sockets only");
    else if (!e.owner.empty() && !os::valid_socket_owner(e.owner))
      error(at("owner"), "'" + key + ".owner': '" + e.owner + "' is not \"user\" or \"user:group\"");
    if (!e.name.empty() && !os::valid_fd_name(e.name))
      error(at("name"), "'" + key + ".name': '" + e.name
                          + "' must be 1-255 letters, digits, '_', '-' or '.' (LISTEN_FDNAMES)");
  }
}

void check_listen_collisions(const std::vector<const app_spec*>& apps,
                             std::vector<diagnostic>& errors) {
  struct bound {
    os::listen_address addr;
    const app_spec* app;
  };
  std::vector<bound> all;
  for (const auto* app : apps) {
    for (size_t i = 0; i < app->listen.size(); ++i) {
      std::string why;
      auto addr = os::parse_listen_address(app->listen[i].address, why);
      if (!addr) continue; // check_listen said so
      for (const auto& b : all) {
        if (b.app == app || !b.addr.collides_with(*addr)) continue;
        auto key = entry_key(*app, i);
        errors.push_back({app->where_of(key), "'" + key + "': " + addr->canonical()
                                                + " is also bound by app '" + b.app->name + "' ("
                                                + b.addr.canonical() + ")"});
        break;
      }
      all.push_back({*addr, app});
    }
  }
}

} // namespace arbor::config::detail
