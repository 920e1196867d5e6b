#include "os/file_watch.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::os {

namespace {

using clock = std::chrono::steady_clock;
constexpr uint32_t dir_events = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM
                                | IN_MOVED_TO | IN_ONLYDIR;

} // namespace

bool watch_ignored(std::string_view rel, const std::vector<std::string>& globs) {
  const std::string path{rel};
  for (const auto& g : globs) {
    if (g.find('/') != std::string::npos) {
      if (::fnmatch(g.c_str(), path.c_str(), FNM_PATHNAME) == 0) return true;
      continue;
    }
    size_t begin = 0;
    while (begin <= path.size()) {
      size_t end = path.find('/', begin);
      if (end == std::string::npos) end = path.size();
      const std::string name = path.substr(begin, end - begin);
      if (!name.empty() && ::fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
      begin = end + 1;
    }
  }
  return false;
}

struct file_watch::impl {
  struct reg {
    std::vector<std::string> ignore;
    std::chrono::milliseconds debounce{300};
    on_change fn;
    std::string first;             // first change since the last call
    clock::time_point due{};       // when to call, once `first` is set
  };
  struct dir {
    std::string path;              // absolute
    // registration -> (its root directory, the one file it watches there or "")
    std::map<uint64_t, std::pair<std::string, std::string>> regs;
  };

  int ino = -1;
  int wake = -1;
  std::atomic<bool> stopping{false};
  mutable std::mutex mtx;          // guards regs and dirs; never held across a callback
  std::mutex calling;              // held across a callback: remove() waits for it
  std::map<uint64_t, reg> regs;
  std::map<int, dir> dirs;         // by watch descriptor
  uint64_t next_id = 1;
  std::thread thread;

  /// Watches `path` (and with `recursive`, every directory under it not
  /// ignored) for registration `id` rooted at `root`. Under mtx.
  bool watch_tree(uint64_t id, const std::string& root, const std::string& path,
                  const std::string& only, bool recursive, std::string& error) {
    const int wd = ::inotify_add_watch(ino, path.c_str(), dir_events);
    if (wd < 0) {
      error = "cannot watch " + path + ": " + std::strerror(errno)
              + (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
      return false;
    }
    auto& d = dirs[wd];
    d.path = path;
    d.regs[id] = {root, only};
    if (!recursive) return true;
    DIR* dp = ::opendir(path.c_str());
    if (!dp) return true; // gone meanwhile: nothing under it to watch
    bool ok = true;
    while (dirent* e = ::readdir(dp)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string sub = path + "/" + name;
      struct stat st;
      if (::lstat(sub.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (watch_ignored(relative(root, sub), regs[id].ignore)) continue;
      if (!watch_tree(id, root, sub, "", true, error)) {
        ok = false;
        break;
      }
    }
    ::closedir(dp);
    return ok;
  }

  static std::string relative(const std::string& root, const std::string& path) {
    return path.size() > root.size() ? path.substr(root.size() + 1) : std::string{};
  }

  void forget(uint64_t id) { // under mtx
    for (auto it = dirs.begin(); it != dirs.end();) {
      it->second.regs.erase(id);
      if (it->second.regs.empty()) {
        ::inotify_rm_watch(ino, it->first);
        it = dirs.erase(it);
      } else {
        ++it;
      }
    }
    regs.erase(id);
  }

  /// One inotify event: every registration that sees it is due `debounce` from now.
  void on_event(const inotify_event& ev) { // under mtx
    if (ev.mask & IN_Q_OVERFLOW) {
      for (auto& [id, r] : regs) note(r, "(too many changes at once)");
      return;
    }
    auto d = dirs.find(ev.wd);
    if (d == dirs.end()) return;
    if (ev.mask & IN_IGNORED) return void(dirs.erase(d));
    const std::string name = ev.len ? ev.name : "";
    const std::string full = name.empty() ? d->second.path : d->second.path + "/" + name;
    for (auto& [id, where] : std::map(d->second.regs)) {
      auto r = regs.find(id);
      if (r == regs.end()) continue;
      const auto& [root, only] = where;
      if (!only.empty() && name != only) continue;
      const std::string rel = only.empty() ? relative(root, full) : only;
      if (watch_ignored(rel, r->second.ignore)) continue;
      if ((ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO)) && only.empty()) {
        std::string error; // a directory that cannot be watched is left out
        watch_tree(id, root, full, "", true, error);
      }
      note(r->second, rel);
    }
  }

  static void note(reg& r, const std::string& rel) {
    if (r.first.empty()) r.first = rel.empty() ? "." : rel;
    r.due = clock::now() + r.debounce;
  }

  /// Calls what is due; returns how long to wait for the next (-1: nothing pending).
  int fire_due() {
    for (;;) {
      on_change fn;
      std::string path;
      int wait = -1;
      std::unique_lock<std::mutex> call{calling};
      {
        std::lock_guard<std::mutex> g{mtx};
        const auto now = clock::now();
        for (auto& [id, r] : regs) {
          if (r.first.empty()) continue;
          if (r.due <= now && !fn) {
            fn = r.fn;
            path = std::move(r.first);
            r.first.clear();
            continue;
          }
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.due - now).count();
          ms = std::max<decltype(ms)>(ms, 0) + 1;
          if (wait < 0 || ms < wait) wait = static_cast<int>(ms);
        }
      }
      if (!fn) return wait;
      fn(path);
    }
  }

  void run() {
    alignas(inotify_event) char buf[64 * 1024];
    int wait = -1;
    while (!stopping) {
      pollfd p[2] = {{ino, POLLIN, 0}, {wake, POLLIN, 0}};
      if (::poll(p, 2, wait) < 0 && errno != EINTR) break;
      if (p[0].revents & POLLIN) {
        const ssize_t n = ::read(ino, buf, sizeof buf);
        std::lock_guard<std::mutex> g{mtx};
        for (ssize_t at = 0; n > 0 && at < n;) {
          auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
          on_event(*ev);
          at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
      }
      if (p[1].revents & POLLIN) {
        uint64_t x;
        [[maybe_unused]] auto r = ::read(wake, &x, sizeof x);
      }
      wait = fire_due();
    }
  }
};

file_watch::file_watch() : impl_(new impl) {
  impl_->ino = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  impl_->wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->ino >= 0 && impl_->wake >= 0) impl_->thread = std::thread([this] { impl_->run(); });
}

file_watch::~file_watch() {
  impl_->stopping = true;
  uint64_t one = 1;
  if (impl_->wake >= 0) [[maybe_unused]] auto n = ::write(impl_->wake, &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->ino >= 0) ::close(impl_->ino);
  if (impl_->wake >= 0) ::close(impl_->wake);
}

uint64_t file_watch::add(const std::vector<std::string>& roots, std::vector<std::string> ignore,
                         std::chrono::milliseconds debounce, on_change fn, std::string& error) {
  if (impl_->ino < 0 || !impl_->thread.joinable()) {
    error = std::string{"inotify: "} + std::strerror(errno);
    return 0;
  }
  std::lock_guard<std::mutex> g{impl_->mtx};
  const uint64_t id = impl_->next_id++;
  auto& r = impl_->regs[id];
  r.ignore = std::move(ignore);
  r.debounce = debounce;
  r.fn = std::move(fn);
  for (const auto& root : roots) {
    struct stat st;
    bool ok = ::stat(root.c_str(), &st) == 0;
    if (!ok) error = "cannot watch " + root + ": " + std::strerror(errno);
    else if (S_ISDIR(st.st_mode)) ok = impl_->watch_tree(id, root, root, "", true, error);
    else {
      const auto slash = root.rfind('/');
      const std::string parent = slash == 0 ? "/" : root.substr(0, slash);
      ok = impl_->watch_tree(id, parent, parent, root.substr(slash + 1), false, error);
    }
    if (!ok) {
      impl_->forget(id);
      return 0;
    }
  }
  return id;
}

void file_watch::remove(uint64_t id) {
  std::lock_guard<std::mutex> call{impl_->calling}; // a callback in progress ends first
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->forget(id);
}

size_t file_watch::directories() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->dirs.size();
}

} // namespace arbor::os
