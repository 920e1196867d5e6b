#pragma once

// Which apps of a tree are ready, for depends_on: an app starts only once
// every app it depends on is ready. Written by app supervisors, read by app
// supervisors that wait; thread-safe (plain mutex, no actor hop).

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

namespace arbor::detail {

/// deps_atom: sent to a waiting app supervisor when any app became ready.
using deps_atom = caf::atom_constant<caf::atom("deps")>;

class readiness_board {
public:
  /// Records whether `app` is ready (known apps that never said so are not).
  /// When an app becomes ready, every waiter is told (deps_atom) once.
  void set(const std::string& app, bool ready) {
    std::vector<caf::actor> wake;
    {
      std::lock_guard<std::mutex> g{m_};
      auto& r = ready_[app];
      if (r == ready) return;
      r = ready;
      if (ready) wake.swap(waiters_);
    }
    for (auto& w : wake) caf::anon_send(w, deps_atom::value);
  }

  /// An app, or every app of a group, that no longer exists (apply removed it).
  void erase(const std::string& name) {
    std::lock_guard<std::mutex> g{m_};
    ready_.erase(name);
    auto prefix = name + ".";
    for (auto i = ready_.lower_bound(prefix);
         i != ready_.end() && i->first.compare(0, prefix.size(), prefix) == 0;)
      i = ready_.erase(i);
  }

  /// The dependencies in `deps` (app or group paths) that are not ready: a
  /// group is ready when every app in it is; a name with no app is not.
  std::vector<std::string> missing(const std::vector<std::string>& deps) const {
    std::lock_guard<std::mutex> g{m_};
    std::vector<std::string> out;
    for (const auto& d : deps) {
      bool any = false, all = true;
      if (auto i = ready_.find(d); i != ready_.end()) {
        any = true;
        all = i->second;
      }
      auto prefix = d + ".";
      for (auto i = ready_.lower_bound(prefix);
           i != ready_.end() && i->first.compare(0, prefix.size(), prefix) == 0; ++i) {
        any = true;
        all = all && i->second;
      }
      if (!any || !all) out.push_back(d);
    }
    return out;
  }

  /// Tells `who` (deps_atom) the next time an app becomes ready.
  void wait(const caf::actor& who) {
    std::lock_guard<std::mutex> g{m_};
    waiters_.push_back(who);
  }

private:
  mutable std::mutex m_;
  std::map<std::string, bool> ready_;
  std::vector<caf::actor> waiters_;
};

} // namespace arbor::detail
