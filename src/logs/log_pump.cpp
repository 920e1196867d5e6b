#include "logs/log_pump.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::logs {

namespace {

std::string errno_text(const char* what, const std::string& path, int err) {
  return std::string{what} + " " + path + ": " + std::strerror(err);
}

/// mkdir -p. Returns "" or what went wrong.
std::string make_dirs(const std::string& dir) {
  if (dir.empty())
    return {};
  for (size_t pos = 1;; ++pos) {
    pos = dir.find('/', pos);
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      return errno_text("mkdir", part, errno);
    if (pos == std::string::npos)
      break;
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0)
    return errno_text("stat", dir, errno);
  if (!S_ISDIR(st.st_mode))
    return errno_text("mkdir", dir, ENOTDIR);
  return {};
}

std::string rotated(const std::string& path, uint64_t k) {
  return path + "." + std::to_string(k);
}

/// Removes `path.from`, `path.from+1`... A gap below `at_least` is skipped;
/// above it the first missing file ends the sweep. Returns "" or the error.
std::string remove_rotated(const std::string& path, uint64_t from, uint64_t at_least) {
  std::string error;
  for (uint64_t k = from;; ++k) {
    std::string f = rotated(path, k);
    if (::unlink(f.c_str()) != 0) {
      if (errno != ENOENT)
        error = errno_text("unlink", f, errno);
      else if (k >= at_least)
        break;
    }
  }
  return error;
}

} // namespace

struct log_pump::impl {
  struct file_state {
    std::string path;
    int fd = -1;
    uint64_t size = 0;
  };

  /// What the pump needs of an app's config, copied under `mtx`.
  struct snapshot {
    std::string dir;
    std::string app;
    uint64_t max_size = 0;
    uint32_t max_files = 1;
    std::string date_format;
    uint64_t gen = 0;
  };

  struct app_entry {
    // Guarded by impl::mtx.
    app_log_config cfg;
    uint64_t gen = 0;            // bumped by every configure()
    app_stats st;
    // Guarded by io: the files, touched by the pump thread and flush().
    std::mutex io;
    file_state files[2];         // indexed by stream
    uint64_t applied_gen = 0;    // the config the paths were made from

    ~app_entry() {
      for (auto& f : files)
        if (f.fd >= 0)
          ::close(f.fd);
    }
  };

  struct stream_entry {
    int fd = -1;                 // read end, non-blocking
    std::shared_ptr<app_entry> app;
    stream kind = stream::out;
    std::string prefix;          // "web.api#0 | "
    std::string partial;         // pump thread only; at most max_line bytes
  };

  enum class served : uint8_t { more, idle, closed };

  int epfd = -1;
  int wakefd = -1;
  std::atomic<bool> stopping{false};
  mutable std::mutex mtx;        // bookkeeping only: never held across I/O
  std::map<std::string, std::shared_ptr<app_entry>> apps;
  std::unordered_map<uint64_t, std::unique_ptr<stream_entry>> streams; // id -> stream; id 0 is wakefd
  uint64_t next_id = 1;
  std::thread thread;

  // Pump thread only.
  std::unique_ptr<char[]> buf{new char[read_chunk]};
  time_t date_sec = -1;
  std::string date_fmt;
  std::string date_text;

  ~impl() {
    for (auto& kv : streams)
      ::close(kv.second->fd);
    if (wakefd >= 0)
      ::close(wakefd);
    if (epfd >= 0)
      ::close(epfd);
  }

  void run() {
    epoll_event events[64];
    while (!stopping.load()) {
      int n = ::epoll_wait(epfd, events, 64, -1);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return; // EBADF/EINVAL: nothing sensible left to do
      }
      // One read per ready stream per round. epoll moves a level-triggered
      // fd it reported to the back of its ready list, so a flood of ready
      // streams is served round-robin too.
      for (int i = 0; i < n; ++i) {
        uint64_t id = events[i].data.u64;
        if (id == 0)
          return; // the only use of the eventfd is "stop"
        if (stream_entry* s = find(id))
          serve(id, *s);
      }
    }
  }

  stream_entry* find(uint64_t id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : it->second.get(); // only this thread erases
  }

  snapshot snap(const app_entry& a) {
    std::lock_guard<std::mutex> guard{mtx};
    snapshot s;
    s.dir = a.cfg.dir;
    s.app = a.cfg.app;
    s.max_size = a.cfg.max_size;
    s.max_files = a.cfg.max_files < 1 ? 1 : a.cfg.max_files;
    s.date_format = a.cfg.date_format;
    s.gen = a.gen;
    return s;
  }

  /// The date prefix ("" without a format), recomputed once a second.
  const std::string& date_prefix(const std::string& fmt) {
    if (fmt.empty()) {
      date_text.clear();
      date_fmt.clear();
      return date_text;
    }
    time_t now = ::time(nullptr);
    if (now == date_sec && fmt == date_fmt)
      return date_text;
    date_sec = now;
    date_fmt = fmt;
    struct tm local{};
    ::localtime_r(&now, &local);
    char out[256];
    size_t n = ::strftime(out, sizeof out, fmt.c_str(), &local);
    date_text.assign(out, n);
    date_text += ' ';
    return date_text;
  }

  /// Reads once from `s` and writes its complete lines. On EOF (or a read
  /// error) writes the partial line and forgets the stream.
  served serve(uint64_t id, stream_entry& s) {
    ssize_t r = ::read(s.fd, buf.get(), read_chunk);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
      return served::idle;
    auto a = snap(*s.app);
    std::string out;
    if (r > 0) {
      split(s, a, std::string_view{buf.get(), static_cast<size_t>(r)}, out);
      write_out(*s.app, a, s.kind, out);
      return served::more;
    }
    if (!s.partial.empty()) {
      emit(s, a, s.partial, {}, out);
      s.partial.clear();
      write_out(*s.app, a, s.kind, out);
    }
    std::lock_guard<std::mutex> guard{mtx};
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, s.fd, nullptr);
    ::close(s.fd);
    streams.erase(id); // destroys s
    return served::closed;
  }

  /// Appends one line to `out`, writing `out` once it holds read_chunk
  /// bytes (a read of tiny lines grows by their prefixes: keep that bounded).
  void emit(const stream_entry& s, const snapshot& a, std::string_view head,
            std::string_view tail, std::string& out) {
    out += date_prefix(a.date_format);
    out += s.prefix;
    out += head;
    out += tail;
    out += '\n';
    if (out.size() >= read_chunk) {
      write_out(*s.app, a, s.kind, out);
      out.clear();
    }
  }

  /// Cuts `data` into lines (a line longer than max_line into max_line
  /// pieces) appended to `out`; keeps an unfinished line in s.partial.
  void split(stream_entry& s, const snapshot& a, std::string_view data, std::string& out) {
    while (!data.empty()) {
      size_t nl = data.find('\n');
      size_t len = nl == std::string_view::npos ? data.size() : nl;
      while (s.partial.size() + len > max_line) {
        size_t take = max_line - s.partial.size();
        emit(s, a, s.partial, data.substr(0, take), out);
        s.partial.clear();
        data.remove_prefix(take);
        len -= take;
      }
      if (nl == std::string_view::npos) {
        s.partial.append(data.data(), len);
        return;
      }
      emit(s, a, s.partial, data.substr(0, len), out);
      s.partial.clear();
      data.remove_prefix(len + 1);
    }
  }

  /// Points the app's files at its current config; the caller holds a.io.
  static void apply(app_entry& a, const snapshot& c) {
    if (a.applied_gen == c.gen)
      return;
    auto p = paths(c.dir, c.app);
    std::string fresh[2] = {p.first, p.second};
    for (int i = 0; i < 2; ++i) {
      if (a.files[i].path == fresh[i])
        continue;
      if (a.files[i].fd >= 0)
        ::close(a.files[i].fd);
      a.files[i] = file_state{fresh[i], -1, 0};
    }
    a.applied_gen = c.gen;
  }

  static bool open_file(file_state& f, const snapshot& c, std::string& error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      f.fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
      if (f.fd >= 0)
        break;
      int err = errno;
      if (err != ENOENT || attempt == 1 || !make_dirs(c.dir).empty()) { // the dir was removed?
        error = errno_text("open", f.path, err);
        return false;
      }
    }
    struct stat st{};
    f.size = ::fstat(f.fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return true;
  }

  /// <f> -> <f>.1 -> ... keeping max_files files in all. Leaves f closed.
  static void rotate(file_state& f, const snapshot& c, std::string& error) {
    ::close(f.fd);
    f.fd = -1;
    f.size = 0;
    bool moved = false;
    if (c.max_files > 1) {
      std::string e = remove_rotated(f.path, c.max_files - 1, c.max_files);
      if (!e.empty())
        error = e;
      for (uint32_t k = c.max_files - 2; k >= 1; --k)
        if (::rename(rotated(f.path, k).c_str(), rotated(f.path, k + 1).c_str()) != 0
            && errno != ENOENT)
          error = errno_text("rename", rotated(f.path, k), errno);
      moved = ::rename(f.path.c_str(), rotated(f.path, 1).c_str()) == 0 || errno == ENOENT;
      if (!moved)
        error = errno_text("rename", f.path, errno);
    }
    // One file only, or it could not be moved: start it over rather than let
    // it grow without bound.
    if (!moved && ::truncate(f.path.c_str(), 0) != 0 && errno != ENOENT)
      error = errno_text("truncate", f.path, errno);
  }

  /// Writes whole lines to the app's file for `kind`, rotating before the
  /// file would exceed max_size. Never throws, never retries in a loop: what
  /// cannot be written is counted as dropped and the file is reopened next time.
  void write_out(app_entry& a, const snapshot& c, stream kind, const std::string& out) {
    if (out.empty())
      return;
    uint64_t written = 0, dropped = 0, rotations = 0;
    std::string error;
    {
      std::lock_guard<std::mutex> guard{a.io};
      apply(a, c);
      file_state& f = a.files[static_cast<int>(kind)];
      const char* p = out.data();
      size_t left = out.size();
      while (left > 0) {
        if (f.fd < 0 && !open_file(f, c, error)) {
          dropped += left;
          break;
        }
        size_t len = left;
        if (c.max_size > 0 && f.size + left > c.max_size) {
          size_t room = f.size < c.max_size ? static_cast<size_t>(c.max_size - f.size) : 0;
          const void* last = room > 0 ? ::memrchr(p, '\n', room) : nullptr;
          if (last) {
            len = static_cast<size_t>(static_cast<const char*>(last) - p) + 1; // the lines that fit
          } else if (f.size > 0) {
            rotate(f, c, error);
            ++rotations;
            continue;
          } else {
            // One line longer than max_size: it gets a file of its own.
            const void* nl = ::memchr(p, '\n', left);
            len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - p) + 1 : left;
          }
        }
        ssize_t w = ::write(f.fd, p, len);
        if (w < 0 && errno == EINTR)
          continue;
        if (w <= 0) {
          error = errno_text("write", f.path, w < 0 ? errno : EIO);
          ::close(f.fd);
          f.fd = -1;
          dropped += left;
          break;
        }
        f.size += static_cast<uint64_t>(w);
        written += static_cast<uint64_t>(w);
        p += w;
        left -= static_cast<size_t>(w);
      }
    }
    std::lock_guard<std::mutex> guard{mtx};
    a.st.bytes_written += written;
    a.st.bytes_dropped += dropped;
    a.st.rotations += rotations;
    if (!error.empty())
      a.st.last_error = error;
  }
};

log_pump::log_pump() : impl_(new impl) {
  ::tzset(); // localtime_r need not do it
  impl_->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl_->epfd < 0)
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  impl_->wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wakefd < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  if (::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->wakefd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  impl_->thread = std::thread([this] { impl_->run(); });
}

log_pump::~log_pump() {
  impl_->stopping = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wakefd, &one, sizeof one);
  if (impl_->thread.joinable())
    impl_->thread.join();
  // Drain what the pipes hold now; a writer still going gets a bounded share.
  std::vector<uint64_t> ids;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    for (auto& kv : impl_->streams)
      ids.push_back(kv.first);
  }
  for (uint64_t id : ids) {
    impl::stream_entry* s = impl_->find(id);
    if (!s)
      continue;
    auto r = impl::served::more;
    for (int round = 0; round < 64 && r == impl::served::more; ++round)
      r = impl_->serve(id, *s);
    if (r != impl::served::closed && !s->partial.empty()) {
      auto a = impl_->snap(*s->app);
      std::string out;
      impl_->emit(*s, a, s->partial, {}, out);
      s->partial.clear();
      impl_->write_out(*s->app, a, s->kind, out);
    }
  }
}

void log_pump::configure(const app_log_config& cfg) {
  std::string error = make_dirs(cfg.dir);
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto& a = impl_->apps[cfg.app];
  if (!a)
    a = std::make_shared<impl::app_entry>();
  a->cfg = cfg;
  ++a->gen;
  if (!error.empty())
    a->st.last_error = error;
}

int log_pump::open_stream(const std::string& app, uint32_t instance, stream s) {
  auto entry = std::make_unique<impl::stream_entry>();
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    auto it = impl_->apps.find(app);
    if (it == impl_->apps.end()) {
      errno = ENOENT;
      return -1;
    }
    entry->app = it->second;
  }
  entry->kind = s;
  entry->prefix = app + "#" + std::to_string(instance) + " | ";
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return -1;
  if (::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    errno = err;
    return -1;
  }
  entry->fd = fds[0];
  std::lock_guard<std::mutex> guard{impl_->mtx};
  uint64_t id = impl_->next_id++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fds[0], &ev) != 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    errno = err;
    return -1;
  }
  impl_->streams.emplace(id, std::move(entry));
  return fds[1];
}

bool log_pump::flush(const std::string& app) {
  std::shared_ptr<impl::app_entry> a;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    auto it = impl_->apps.find(app);
    if (it == impl_->apps.end())
      return false;
    a = it->second;
  }
  auto c = impl_->snap(*a);
  std::string error;
  {
    std::lock_guard<std::mutex> guard{a->io};
    impl::apply(*a, c);
    for (auto& f : a->files) {
      int rc = f.fd >= 0 ? ::ftruncate(f.fd, 0) : ::truncate(f.path.c_str(), 0);
      if (rc != 0 && errno != ENOENT)
        error = errno_text("truncate", f.path, errno);
      else
        f.size = 0;
      std::string e = remove_rotated(f.path, 1, c.max_files);
      if (!e.empty())
        error = e;
    }
  }
  if (error.empty())
    return true;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  a->st.last_error = error;
  return false;
}

app_stats log_pump::stats(const std::string& app) const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto it = impl_->apps.find(app);
  return it == impl_->apps.end() ? app_stats{} : it->second->st;
}

size_t log_pump::streams() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->streams.size();
}

std::pair<std::string, std::string> log_pump::paths(const std::string& dir,
                                                   const std::string& app) {
  std::string base = dir.empty() ? app : dir + (dir.back() == '/' ? "" : "/") + app;
  return {base + ".out.log", base + ".err.log"};
}

} // namespace arbor::logs
