#pragma once

// Watch mode's eyes: one inotify descriptor and one thread for every app
// with `watch`. Each registration watches its roots recursively (directories
// created later are watched as they appear), skips what its ignore globs
// match, and once a change is followed by `debounce` without another, calls
// its callback once with the first path that changed: a burst of a thousand
// files is one call.
//
//   os::file_watch w;
//   auto id = w.add({{"/srv/app"}}, {".git", "*.log"}, 300ms,
//                   [](const std::string& path) { ... }, error);   // on w's thread
//   w.remove(id);

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace arbor::os {

/// Whether `rel` (a path relative to a watched root, '/'-separated) is
/// ignored: a glob without '/' matches any one component's name ("*.log",
/// "node_modules"); a glob with '/' matches the whole relative path
/// ("build/*.o", fnmatch with FNM_PATHNAME).
bool watch_ignored(std::string_view rel, const std::vector<std::string>& globs);

class file_watch {
public:
  /// Called on the watcher's thread with the first changed path (relative
  /// to its root; the root's name for a root that is a file).
  using on_change = std::function<void(const std::string& path)>;

  file_watch();
  /// Stops the thread; no callback runs after it returns.
  ~file_watch();
  file_watch(const file_watch&) = delete;
  file_watch& operator=(const file_watch&) = delete;

  /// Starts watching `roots` (absolute directories or files). Returns the
  /// registration's id, or 0 with `error` set (a root missing, inotify's
  /// watch limit reached: "fs.inotify.max_user_watches"). Thread-safe.
  uint64_t add(const std::vector<std::string>& roots, std::vector<std::string> ignore,
               std::chrono::milliseconds debounce, on_change fn, std::string& error);

  /// Ends a registration; its callback is not called after this returns.
  /// Thread-safe (not from a callback); unknown ids are fine.
  void remove(uint64_t id);

  /// Number of directories watched (for tests and status).
  size_t directories() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::os
