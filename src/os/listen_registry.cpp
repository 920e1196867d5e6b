#include "os/listen_registry.hpp"

namespace arbor::os {

namespace {

/// The LISTEN_FDNAMES entry of `e`: its name, else the app's last segment
/// (as systemd names a socket after its unit).
std::string fd_name(const std::string& app, const listen_spec& e) {
  if (!e.name.empty()) return e.name;
  auto dot = app.rfind('.');
  return dot == std::string::npos ? app : app.substr(dot + 1);
}

} // namespace

std::string listen_registry::key_of(const std::string& app, const std::string& address) {
  return app + " " + address;
}

bool listen_registry::split_key(const std::string& key, std::string& app, std::string& address) {
  auto space = key.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == key.size()) return false;
  app = key.substr(0, space);
  address = key.substr(space + 1);
  return true;
}

std::shared_ptr<const listen_set> listen_registry::acquire(const std::string& app,
                                                          const std::vector<listen_spec>& entries,
                                                          std::string& error) {
  error.clear();
  std::lock_guard<std::mutex> g{mtx_};
  auto& mine = apps_[app];
  if (mine.set && mine.entries == entries) return mine.set;
  auto set = std::make_shared<listen_set>();
  std::map<std::string, std::shared_ptr<listen_socket>> next;
  std::vector<std::shared_ptr<listen_socket>> fresh;
  set->names = "LISTEN_FDNAMES=";
  for (const auto& e : entries) {
    auto addr = parse_listen_address(e.address, error);
    if (!addr) return nullptr;
    auto shown = addr->canonical();
    auto sock = next.count(shown) ? next[shown] : nullptr;
    if (!sock) {
      auto old = mine.by_address.find(shown);
      if (old != mine.by_address.end()) {
        sock = old->second;
      } else {
        sock = listen_socket::bind(e, error);
        if (!sock) {
          for (auto& f : fresh) f->remove_file();
          return nullptr;
        }
        fresh.push_back(sock);
      }
    }
    next[shown] = sock;
    set->sockets.push_back(sock);
    set->fds.push_back(sock->fd());
    set->names += (set->fds.size() == 1 ? "" : ":") + fd_name(app, e);
  }
  for (auto& [address, sock] : mine.by_address)
    if (!next.count(address)) drop(app, sock);
  for (auto& f : fresh)
    if (bound_) bound_(key_of(app, f->address()), f->fd());
  mine.by_address = std::move(next);
  mine.entries = entries;
  mine.set = set->fds.empty() ? nullptr : std::move(set);
  return mine.set;
}

void listen_registry::drop(const std::string& app, std::shared_ptr<listen_socket>& sock) {
  sock->remove_file();
  if (dropped_) dropped_(key_of(app, sock->address()));
}

void listen_registry::release(const std::string& app) {
  std::lock_guard<std::mutex> g{mtx_};
  auto i = apps_.find(app);
  if (i == apps_.end()) return;
  for (auto& [address, sock] : i->second.by_address) drop(app, sock);
  apps_.erase(i);
}

void listen_registry::adopt(const std::string& app, std::shared_ptr<listen_socket> sock,
                            bool hold) {
  std::lock_guard<std::mutex> g{mtx_};
  if (hold && bound_) bound_(key_of(app, sock->address()), sock->fd());
  auto& mine = apps_[app];
  mine.by_address[sock->address()] = std::move(sock);
  mine.set = nullptr; // the next acquire builds it from what it names
}

void listen_registry::drop_unnamed(
  const std::function<bool(const std::string&, const std::string&)>& named) {
  std::lock_guard<std::mutex> g{mtx_};
  for (auto& [app, mine] : apps_) {
    for (auto i = mine.by_address.begin(); i != mine.by_address.end();) {
      if (named(app, i->first)) {
        ++i;
        continue;
      }
      drop(app, i->second);
      i = mine.by_address.erase(i);
      mine.set = nullptr;
    }
  }
}

bool listen_registry::has(const std::string& app, const std::string& address) const {
  std::lock_guard<std::mutex> g{mtx_};
  auto i = apps_.find(app);
  return i != apps_.end() && i->second.by_address.count(address) > 0;
}

std::vector<std::pair<std::string, int>> listen_registry::held() const {
  std::lock_guard<std::mutex> g{mtx_};
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [app, mine] : apps_)
    for (const auto& [address, sock] : mine.by_address) out.emplace_back(key_of(app, address), sock->fd());
  return out;
}

} // namespace arbor::os
