#include "logs/log_pump.hpp"

#include "logs/app_log.hpp"
#include "logs/echo.hpp"
#include "logs/lines.hpp"
#include "logs/write_ledger.hpp"

#include <atomic>
#include <cerrno>
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
#include <unistd.h>

namespace arbor::logs {

using detail::app_log;
using snapshot = detail::app_snapshot;

struct log_pump::impl {
  struct app_entry {
    // Guarded by impl::mtx.
    app_log_config cfg;
    uint64_t gen = 0;            // bumped by every configure()
    app_stats st;
    // The files, touched by the pump thread and flush(); guarded by their own lock.
    app_log log;
  };

  struct stream_entry {
    int fd = -1;                 // read end, non-blocking
    std::shared_ptr<app_entry> app;
    stream kind = stream::out;
    std::string prefix;          // "web.api#0 | "
    std::string key;             // for the hook (keeper) and the ledger
    std::string partial;         // an unfinished line taken from an otherwise empty pipe
  };

  enum class served : uint8_t { more, idle, closed };

  int epfd = -1;
  int wakefd = -1;
  std::atomic<bool> stopping{false};
  mutable std::mutex mtx;        // bookkeeping only: never held across file I/O (tell_all
                                 // holds it across its hook calls)
  std::map<std::string, std::shared_ptr<app_entry>> apps;
  std::unordered_map<uint64_t, std::unique_ptr<stream_entry>> streams; // id -> stream; id 0 is wakefd
  uint64_t next_id = 1;
  std::thread thread;
  std::function<void(const stream_change&)> hook; // set before streams open
  detail::echo_sink echo;        // set before streams open; the pump thread's

  /// An unregistered stream of `app`'s instance; null (ENOENT) for an app not configured.
  std::unique_ptr<stream_entry> new_entry(const std::string& app, uint32_t instance, stream s) {
    auto entry = std::make_unique<stream_entry>();
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto it = apps.find(app);
      if (it == apps.end()) {
        errno = ENOENT;
        return nullptr;
      }
      entry->app = it->second;
    }
    entry->kind = s;
    entry->prefix = app + "#" + std::to_string(instance) + " | ";
    return entry;
  }

  /// Registers a read end (non-blocking) under a new id; false with errno.
  bool add_stream(std::unique_ptr<stream_entry> entry) {
    std::lock_guard<std::mutex> guard{mtx};
    uint64_t id = next_id++;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, entry->fd, &ev) != 0)
      return false;
    streams.emplace(id, std::move(entry));
    return true;
  }

  /// What the hook is told about `e` (its read end `fd`, or -1: forgotten).
  /// The caller holds mtx.
  stream_change change_of(const stream_entry& e, int fd) const {
    stream_change c;
    c.key = e.key;
    c.fd = fd;
    c.prefix = e.prefix;
    if (fd >= 0) {
      const app_log_config& cfg = e.app->cfg;
      auto paths = log_pump::paths(cfg.dir, cfg.app);
      c.path = e.kind == stream::out ? paths.first : paths.second;
      c.date_format = cfg.date_format;
      c.rotate = rotation{cfg.max_size, cfg.max_files < 1 ? 1 : cfg.max_files};
    }
    return c;
  }

  void call_hook(const stream_change& c) {
    try {
      hook(c);
    } catch (...) {
    }
  }

  void tell(const stream_entry& e, int fd) {
    if (!hook)
      return;
    stream_change c;
    {
      std::lock_guard<std::mutex> guard{mtx};
      c = change_of(e, fd);
    }
    call_hook(c);
  }

  // Pump thread only.
  write_ledger ledger;
  std::unique_ptr<char[]> buf{new char[read_chunk]};
  std::string out;                                  // the lines of one step
  std::vector<line_mark> marks;                     // per line: its end in out, in the pipe
  date_stamp dates;

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
          serve(id, *s, (events[i].events & (EPOLLHUP | EPOLLERR)) != 0);
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

  /// One step on `s` (see write_ledger.hpp): peeks at its pipe, writes the
  /// complete lines (the unfinished one too at end of stream (`hup`) or if
  /// `all`), then takes exactly those bytes out of the pipe. If the pipe
  /// holds only an unfinished line, it is taken into s.partial (left in the
  /// pipe, it would keep the stream readable). At end of stream writes the
  /// partial line and forgets the stream.
  served serve(uint64_t id, stream_entry& s, bool hup, bool all = false) {
    ssize_t r = ledger.peek(s.fd, buf.get(), read_chunk);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (all)
        write_partial(s);
      return served::idle;
    }
    if (r > 0) {
      std::string_view data{buf.get(), static_cast<size_t>(r)};
      auto a = snap(*s.app);
      size_t take = cut(s, a, data, hup || all);
      if (marks.empty()) {
        s.partial.append(data.data(), data.size()); // < max_line in all: see cut()
        ledger.consume(s.key, s.fd, data.size());
        return served::more;
      }
      write_lines(s, a, take);
      s.partial.clear(); // it began the first line
      return served::more;
    }
    write_partial(s);
    std::unique_ptr<stream_entry> gone;
    {
      std::lock_guard<std::mutex> guard{mtx};
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, s.fd, nullptr);
      ::close(s.fd);
      auto it = streams.find(id);
      gone = std::move(it->second);
      streams.erase(it);
    }
    tell(*gone, -1);
    return served::closed;
  }

  void write_partial(stream_entry& s) {
    if (s.partial.empty())
      return;
    auto a = snap(*s.app);
    std::string line = dates.text(a.date_format) + s.prefix + s.partial + '\n';
    s.partial.clear();
    write_out(*s.app, a, s.kind, line);
  }

  /// s.partial + `data` as lines in `out`, marked in `marks` (see cut_lines).
  size_t cut(const stream_entry& s, const snapshot& a, std::string_view data, bool all) {
    out.clear();
    marks.clear();
    return cut_lines(s.partial, data, all, dates.text(a.date_format), s.prefix, max_line,
                     read_chunk, out, marks);
  }

  /// Tells the ledger about each write() of `out`, and takes the lines that
  /// are wholly in the file out of the pipe.
  struct ledger_steps final : write_observer {
    impl& pump;
    stream_entry& s;
    size_t next = 0;           // first mark not yet taken
    size_t out_done = 0;       // out up to here: in the file, taken from the pipe
    size_t taken = 0;          // bytes taken from the pipe
    int fd = -1;               // the file of the last write
    ledger_steps(impl& p, stream_entry& e) : pump(p), s(e) {}
    void before(int file, size_t at) override {
      fd = file;
      if (at == out_done) // else: the rest of a line cut by a short write
        pump.ledger.begin_write(s.key, file);
    }
    void after(size_t at) override {
      size_t raw = taken;
      while (next < pump.marks.size() && pump.marks[next].first <= at) {
        out_done = pump.marks[next].first;
        raw = pump.marks[next++].second;
      }
      if (raw > taken) {
        pump.ledger.consume(s.key, s.fd, raw - taken);
        if (at > out_done) // a short write ended inside the next line
          pump.ledger.begin_write(s.key, fd, at - out_done);
      }
      taken = raw;
    }
  };

  void write_lines(stream_entry& s, const snapshot& a, size_t take) {
    ledger_steps steps{*this, s};
    write_out(*s.app, a, s.kind, out, &steps);
    if (steps.taken < take) // not written (no file, disk full): dropped
      ledger.consume(s.key, s.fd, take - steps.taken);
  }

  /// Writes `out` to the app's file for `kind` and counts what it did.
  void write_out(app_entry& a, const snapshot& c, stream kind, const std::string& lines,
                 write_observer* obs = nullptr) {
    if (lines.empty())
      return;
    write_result r = a.log.write(c, kind, lines, obs);
    echo.write(kind, c.app, lines);
    std::lock_guard<std::mutex> guard{mtx};
    a.st.bytes_written += r.written;
    a.st.bytes_dropped += r.dropped;
    a.st.rotations += r.rotations;
    if (!r.error.empty())
      a.st.last_error = r.error;
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
      r = impl_->serve(id, *s, false);
    if (r != impl::served::closed)
      impl_->serve(id, *s, false, true); // an unfinished last line, as a line
  }
}

void log_pump::set_echo(int out_fd, int err_fd, bool color) {
  impl_->echo.set(out_fd, err_fd, color);
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
  auto entry = impl_->new_entry(app, instance, s);
  if (!entry)
    return -1;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return -1;
  auto undo = [&] { // keeps the errno of what failed
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    errno = err;
    return -1;
  };
  if (::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
    return undo();
  entry->fd = fds[0];
  static std::atomic<uint64_t> serial{0};
  entry->key = app + "#" + std::to_string(instance) + (s == stream::out ? ".out." : ".err.")
               + std::to_string(::getpid()) + "." + std::to_string(++serial);
  auto* e = entry.get();
  if (!impl_->add_stream(std::move(entry)))
    return undo();
  // The write end is not out yet: the pump cannot have seen EOF and freed e.
  impl_->tell(*e, fds[0]);
  return fds[1];
}

void log_pump::tell_all() {
  // Under the lock: the pump thread closes a read end only while holding it,
  // so every descriptor told here is the stream's own.
  std::lock_guard<std::mutex> guard{impl_->mtx};
  if (!impl_->hook)
    return;
  for (auto& kv : impl_->streams)
    impl_->call_hook(impl_->change_of(*kv.second, kv.second->fd));
}

std::pair<int, int> log_pump::ledger_fds() const {
  return {impl_->ledger.page_fd(), impl_->ledger.trash_fd()};
}

void log_pump::set_hook(std::function<void(const stream_change&)> hook) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->hook = std::move(hook);
}

bool log_pump::adopt_stream(const std::string& app, uint32_t instance, stream s, int fd,
                            const std::string& key) {
  auto entry = impl_->new_entry(app, instance, s);
  if (!entry) {
    ::close(fd);
    return false;
  }
  entry->key = key;
  entry->fd = fd;
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  if (!impl_->add_stream(std::move(entry))) {
    int err = errno;
    ::close(fd);
    errno = err;
    return false;
  }
  return true;
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
  std::string error = a->log.truncate(c);
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