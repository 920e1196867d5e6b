#pragma once

// Every app's listening sockets, owned by the daemon's runtime rather than by
// an actor: they outlive an instance's crash, a reload, a scale, and an
// `apply` that restarts the app without changing its `listen` (keyed by app
// and address). The keeper holds a copy of each (on_bound / on_dropped), so
// they outlive the daemon too; a new daemon adopts the copies it is handed.
// Thread-safe: process actors acquire on several scheduler threads.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "arbor/spec.hpp"
#include "os/listen_socket.hpp"

namespace arbor::os {

class listen_registry {
public:
  /// The sockets for `app`'s `listen` (in order), binding each address not
  /// bound yet and reusing the socket of the same app and address otherwise.
  /// Sockets of `app` whose address is no longer listed are let go (a unix
  /// socket file removed); runs still holding one keep it open until they
  /// end. nullptr with `error` when an address cannot be bound (nothing is
  /// let go then). nullptr without error for an empty `listen`.
  std::shared_ptr<const listen_set> acquire(const std::string& app,
                                            const std::vector<listen_spec>& entries,
                                            std::string& error);

  /// Lets go of every socket of `app` (removed from the config).
  void release(const std::string& app);

  /// A socket an earlier daemon bound, reused by acquire() for the same app
  /// and address: handed back by the keeper, or (`hold`: told to on_bound,
  /// the keeper has none) taken from a live run (listen_reclaim.hpp).
  void adopt(const std::string& app, std::shared_ptr<listen_socket> sock, bool hold = false);
  /// Whether a socket of `app` on `address` (canonical) is held.
  bool has(const std::string& app, const std::string& address) const;

  /// Lets go of every socket whose app and address `named` refuses (the
  /// config no longer names it): for adopted sockets, once the config is read.
  void drop_unnamed(const std::function<bool(const std::string& app,
                                             const std::string& address)>& named);

  /// Called (under the registry's lock: keep it short) with the key
  /// ("app address") and descriptor of each socket bound, and the key of
  /// each let go. Set before the first acquire.
  void on_bound(std::function<void(const std::string& key, int fd)> f) { bound_ = std::move(f); }
  void on_dropped(std::function<void(const std::string& key)> f) { dropped_ = std::move(f); }

  /// Every socket held now, as (key, descriptor): to hold again in a new keeper.
  std::vector<std::pair<std::string, int>> held() const;

  /// "app address" and back (the app never holds a space).
  static std::string key_of(const std::string& app, const std::string& address);
  static bool split_key(const std::string& key, std::string& app, std::string& address);

private:
  struct app_sockets {
    std::vector<listen_spec> entries;      ///< what `set` was made for
    std::shared_ptr<const listen_set> set;
    std::map<std::string, std::shared_ptr<listen_socket>> by_address; ///< canonical address
  };
  void drop(const std::string& app, std::shared_ptr<listen_socket>& sock);

  mutable std::mutex mtx_;
  std::map<std::string, app_sockets> apps_;
  std::function<void(const std::string&, int)> bound_;
  std::function<void(const std::string&)> dropped_;
};

} // namespace arbor::os
