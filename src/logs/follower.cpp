#include "logs/follower.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::logs {

namespace {

constexpr size_t chunk = 64 * 1024;
constexpr size_t max_partial = 64 * 1024;
constexpr uint32_t max_rotated = 1000; // how far to look for a file rotated past us

constexpr uint32_t dir_events = IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO
                                | IN_DELETE | IN_CLOSE_WRITE | IN_ONLYDIR;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

} // namespace

struct log_follower::impl {
  struct tracked {
    std::string path;          // what is opened
    std::string label;         // what on_line is told: the followed path
    std::string dir;
    std::string name;
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t offset = 0;       // next byte to read
    std::string partial;       // an unfinished line, at most max_partial
  };

  std::vector<tracked> files;
  line_callback on_line;
  int ifd = -1;
  int stopfd = -1;
  std::map<int, std::string> dirs; // watch descriptor -> directory
  std::error_code error;
  std::unique_ptr<char[]> buf{new char[chunk]};

  ~impl() {
    for (auto& t : files)
      if (t.fd >= 0)
        ::close(t.fd);
    if (ifd >= 0)
      ::close(ifd);
    if (stopfd >= 0)
      ::close(stopfd);
  }

  /// Opens t.path; the position is its end or its start.
  static bool open(tracked& t, bool at_end) {
    t.fd = ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (t.fd < 0)
      return false;
    struct stat st{};
    if (::fstat(t.fd, &st) != 0) {
      ::close(t.fd);
      t.fd = -1;
      return false;
    }
    t.dev = st.st_dev;
    t.ino = st.st_ino;
    t.offset = at_end ? static_cast<uint64_t>(st.st_size) : 0;
    t.partial.clear();
    return true;
  }

  /// Emits the complete lines of `data`, keeping an unfinished one.
  void feed(tracked& t, std::string_view data) {
    while (!data.empty()) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        size_t take = std::min(data.size(), max_partial - t.partial.size());
        t.partial.append(data.data(), take);
        data.remove_prefix(take);
        if (t.partial.size() >= max_partial)
          finish(t);
        continue;
      }
      t.partial.append(data.data(), nl);
      on_line(t.label, t.partial);
      t.partial.clear();
      data.remove_prefix(nl + 1);
    }
  }

  /// Emits an unfinished line as a line.
  void finish(tracked& t) {
    if (t.partial.empty())
      return;
    on_line(t.label, t.partial);
    t.partial.clear();
  }

  /// Reads [from, to) of t's file into feed().
  void read_range(tracked& t, uint64_t from, uint64_t to) {
    while (from < to) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, to - from));
      ssize_t r = ::pread(t.fd, buf.get(), want, static_cast<off_t>(from));
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      feed(t, std::string_view{buf.get(), static_cast<size_t>(r)});
      from += static_cast<uint64_t>(r);
    }
    t.offset = from;
  }

  /// Reads what was appended since the last time; from the start again if
  /// the file was truncated.
  void read_new(tracked& t) {
    struct stat st{};
    if (::fstat(t.fd, &st) != 0)
      return;
    auto size = static_cast<uint64_t>(st.st_size);
    if (size < t.offset) { // truncated (arbor flush)
      t.offset = 0;
      t.partial.clear();
    }
    read_range(t, t.offset, size);
  }

  static bool same(const struct stat& st, const tracked& t) {
    return st.st_dev == t.dev && st.st_ino == t.ino;
  }

  /// Brings one file up to date, switching to the next file each time the
  /// one read was rotated: the rest of it is read, then the file written
  /// after it, up to the live one.
  void check(tracked& t) {
    if (t.fd < 0) {
      if (open(t, false))
        read_new(t);
      return;
    }
    read_new(t);
    for (;;) {
      struct stat st{};
      if (::stat(t.path.c_str(), &st) == 0 && same(st, t))
        return; // still the live file
      int next = successor(t);
      if (next < 0)
        return; // a rotation is half done: its next rename brings us back
      // The rotated file is complete (the pump closes it before the rename).
      read_new(t);
      finish(t);
      ::close(t.fd);
      t.fd = next;
      struct stat nst{};
      ::fstat(next, &nst);
      t.dev = nst.st_dev;
      t.ino = nst.st_ino;
      t.offset = 0;
      t.partial.clear();
      read_new(t);
    }
  }

  /// The rotated name of index k (0: the live path).
  static std::string name_at(const tracked& t, uint32_t k) {
    return k == 0 ? t.path : t.path + "." + std::to_string(k);
  }

  static bool holds(const std::string& path, dev_t dev, ino_t ino) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino;
  }

  /// Opens the file written right after t's, which was rotated: the one a
  /// name below where t's file is now, or the oldest one left if t's file
  /// was deleted. Files are followed by inode, never by a name read once:
  /// a rotation may shift every name while we look, so each choice is
  /// confirmed afterwards and looked for again if the names moved.
  /// Returns -1 if it is not there yet.
  int successor(const tracked& t) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      struct stat self{};
      if (::fstat(t.fd, &self) != 0)
        return -1;
      uint32_t at = 0, oldest = 0;
      locate(t, at, oldest);
      std::string name;
      if (at > 0)
        name = name_at(t, at - 1);
      else if (self.st_nlink == 0)
        name = name_at(t, oldest);
      else
        continue; // being renamed past the scan: look again
      int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        continue; // a name between two renames
      struct stat st{};
      bool ok = ::fstat(fd, &st) == 0;
      // Still in place after the open, so no rename put another file at
      // `name` in between (a rotation renames the older name first).
      if (ok && at > 0)
        ok = holds(name_at(t, at), t.dev, t.ino);
      else if (ok)
        ok = holds(name, st.st_dev, st.st_ino) && ::access(name_at(t, oldest + 1).c_str(), F_OK) != 0;
      if (ok)
        return fd;
      ::close(fd);
    }
    return -1;
  }

  /// Where t's file is among <path>.1, .2, ...: `at` = k for <path>.k (0:
  /// not found), and `oldest` the highest k that exists. A scan upwards
  /// meets a file however a rotation (which moves names up) runs beside
  /// it; a rotation leaves at most one name empty at a time.
  static void locate(const tracked& t, uint32_t& at, uint32_t& oldest) {
    uint32_t missing = 0;
    for (uint32_t k = 1; k <= max_rotated && missing < 3; ++k) {
      struct stat st{};
      if (::stat(name_at(t, k).c_str(), &st) != 0) {
        ++missing;
        continue;
      }
      missing = 0;
      oldest = k;
      if (same(st, t) && at == 0)
        at = k;
    }
  }

  /// The last n lines of t, up to its current end.
  void tail(tracked& t, size_t n) {
    if (t.fd < 0 && !open(t, true))
      return;
    struct stat st{};
    if (::fstat(t.fd, &st) != 0)
      return;
    auto end = static_cast<uint64_t>(st.st_size);
    t.partial.clear();
    if (n == 0 || end == 0) {
      t.offset = end;
      return;
    }
    // Scan back for the n-th newline before the last line's end.
    uint64_t scan = end;
    uint64_t start = 0;
    size_t found = 0;
    bool first = true;
    while (scan > 0 && found < n) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, scan));
      uint64_t at = scan - want;
      ssize_t r = ::pread(t.fd, buf.get(), want, static_cast<off_t>(at));
      if (r != static_cast<ssize_t>(want)) {
        start = scan; // shrank under us: show what was scanned
        break;
      }
      for (size_t i = want; i-- > 0;) {
        if (first) {
          first = false;
          if (buf[i] == '\n')
            continue; // the last line's own newline
        }
        if (buf[i] == '\n' && ++found == n) {
          start = at + i + 1;
          break;
        }
      }
      scan = at;
    }
    read_range(t, start, end);
    finish(t);
  }
};

log_follower::log_follower(std::vector<std::string> files, line_callback on_line)
  : impl_(new impl) {
  impl_->on_line = std::move(on_line);
  impl_->ifd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (impl_->ifd < 0)
    impl_->error = last_error();
  impl_->stopfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->stopfd < 0 && !impl_->error)
    impl_->error = last_error();
  for (auto& path : files) {
    impl::tracked t;
    t.path = path;
    t.label = path;
    auto slash = path.rfind('/');
    t.dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    t.name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (impl_->ifd >= 0 && !impl_->error) {
      int wd = ::inotify_add_watch(impl_->ifd, t.dir.c_str(), dir_events);
      if (wd < 0)
        impl_->error = last_error();
      else
        impl_->dirs[wd] = t.dir; // the same directory gives the same wd
    }
    impl::open(t, true);
    impl_->files.push_back(std::move(t));
  }
}

log_follower::~log_follower() = default;

void log_follower::tail(size_t n) {
  for (auto& t : impl_->files)
    impl_->tail(t, n);
}

std::error_code log_follower::run_for(std::chrono::milliseconds timeout) {
  if (impl_->error)
    return impl_->error;
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  for (auto& t : impl_->files)
    impl_->check(t); // whatever came before the first event
  alignas(inotify_event) char events[16 * 1024];
  for (;;) {
    int wait = -1;
    if (timeout.count() >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      wait = static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count() + 1, 0));
      if (left.count() < 0)
        return {};
    }
    pollfd p[2] = {{impl_->ifd, POLLIN, 0}, {impl_->stopfd, POLLIN, 0}};
    int n = ::poll(p, 2, wait);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return last_error();
    }
    if (p[1].revents) {
      uint64_t v;
      [[maybe_unused]] auto r = ::read(impl_->stopfd, &v, sizeof v);
      return {};
    }
    if (!p[0].revents)
      continue; // timed out: the deadline check ends it
    std::vector<bool> due(impl_->files.size(), false);
    for (;;) {
      ssize_t len = ::read(impl_->ifd, events, sizeof events);
      if (len < 0 && errno == EINTR)
        continue;
      if (len < 0 && errno == EAGAIN)
        break;
      if (len <= 0)
        return len < 0 ? last_error() : std::error_code{EIO, std::generic_category()};
      for (ssize_t i = 0; i < len;) {
        auto* ev = reinterpret_cast<inotify_event*>(events + i);
        i += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        if (ev->mask & IN_Q_OVERFLOW) {
          std::fill(due.begin(), due.end(), true);
          continue;
        }
        auto dir = impl_->dirs.find(ev->wd);
        if (dir == impl_->dirs.end() || ev->len == 0)
          continue;
        std::string_view name{ev->name};
        for (size_t k = 0; k < impl_->files.size(); ++k)
          if (impl_->files[k].dir == dir->second && impl_->files[k].name == name)
            due[k] = true;
      }
    }
    for (size_t k = 0; k < impl_->files.size(); ++k)
      if (due[k])
        impl_->check(impl_->files[k]);
  }
}

void log_follower::stop() {
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(impl_->stopfd, &one, sizeof one);
}

} // namespace arbor::logs
