#include "probe/notify_listener.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace arbor::probe {

const std::string* notify_message::get(const std::string& key) const {
  const std::string* found = nullptr;
  for (auto& [k, v] : fields)
    if (k == key) found = &v;
  return found;
}

std::vector<std::pair<std::string, std::string>> parse_notify(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

namespace {

std::string sanitize(const std::string& key) {
  std::string out = key;
  for (char& c : out) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == '-';
    if (!keep) c = '_';
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out;
}

} // namespace

struct notify_listener::impl {
  struct entry {
    std::string key;
    std::string path;
    int fd = -1;
    callback on_message;
  };

  std::string dir;
  int epfd = -1;
  int wake = -1;
  mutable std::mutex mtx;       // guards entries/by_fd
  std::mutex dispatch;          // held while a callback runs
  std::map<std::string, std::shared_ptr<entry>> entries;
  std::map<int, std::shared_ptr<entry>> by_fd;
  std::thread thread;
  bool stop = false;

  void close_entry(const std::shared_ptr<entry>& e) {
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, nullptr);
    ::unlink(e->path.c_str());
    ::close(e->fd);
  }

  /// Unregisters `key`; returns the entry (closed) or nullptr. mtx held.
  std::shared_ptr<entry> detach(const std::string& key) {
    auto it = entries.find(key);
    if (it == entries.end()) return nullptr;
    auto e = it->second;
    entries.erase(it);
    by_fd.erase(e->fd);
    close_entry(e);
    return e;
  }

  void drain(int fd) {
    char buf[4096 + 1];
    alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
    for (;;) {
      iovec iov{buf, sizeof buf - 1};
      msghdr mh{};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = ctrl;
      mh.msg_controllen = sizeof ctrl;
      ssize_t n = ::recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (n < 0) {
        if (errno == EINTR) continue;
        return; // EAGAIN, or the socket was closed under us
      }
      notify_message msg;
      for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
          ucred cred;
          std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
          msg.sender = cred.pid;
        } else if (c->cmsg_type == SCM_RIGHTS) { // FDSTORE etc.: not supported
          size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          for (size_t i = 0; i < count; ++i) {
            int passed;
            std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
            ::close(passed);
          }
        }
      }
      if (mh.msg_flags & MSG_TRUNC) continue; // oversized: ignore, like systemd
      msg.fields = parse_notify(std::string(buf, static_cast<size_t>(n)));
      if (msg.fields.empty()) continue;
      std::lock_guard<std::mutex> d(dispatch);
      std::shared_ptr<entry> e;
      {
        std::lock_guard<std::mutex> lk(mtx);
        auto it = by_fd.find(fd);
        if (it == by_fd.end()) return; // removed meanwhile
        e = it->second;
      }
      if (e->on_message) {
        try {
          e->on_message(msg);
        } catch (...) {
        }
      }
    }
  }

  void run() {
    epoll_event events[16];
    for (;;) {
      int n = ::epoll_wait(epfd, events, 16, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake) {
          uint64_t v;
          [[maybe_unused]] auto r = ::read(wake, &v, sizeof v);
          std::lock_guard<std::mutex> lk(mtx);
          if (stop) return;
          continue;
        }
        {
          std::lock_guard<std::mutex> lk(mtx);
          if (!by_fd.count(fd)) continue; // removed (fd maybe reused later)
        }
        drain(fd);
      }
    }
  }
};

notify_listener::notify_listener(std::string dir) : impl_(std::make_unique<impl>()) {
  impl_->dir = std::move(dir);
  impl_->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl_->epfd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  impl_->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->wake < 0) {
    int e = errno;
    ::close(impl_->epfd);
    throw std::system_error(e, std::generic_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl_->wake;
  ::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, impl_->wake, &ev);
  try {
    impl_->thread = std::thread([p = impl_.get()] { p->run(); });
  } catch (...) {
    ::close(impl_->wake);
    ::close(impl_->epfd);
    throw;
  }
}

notify_listener::~notify_listener() {
  {
    std::lock_guard<std::mutex> lk(impl_->mtx);
    impl_->stop = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(impl_->wake, &one, sizeof one);
  impl_->thread.join();
  for (auto& [key, e] : impl_->entries) impl_->close_entry(e);
  impl_->entries.clear();
  impl_->by_fd.clear();
  ::close(impl_->wake);
  ::close(impl_->epfd);
}

std::string notify_listener::add(const std::string& key, callback on_message, std::string* error) {
  auto fail = [&](std::string what) {
    if (error) *error = std::move(what);
    return std::string{};
  };
  remove(key);
  auto e = std::make_shared<impl::entry>();
  e->key = key;
  e->path = impl_->dir + "/" + sanitize(key) + ".sock";
  e->on_message = std::move(on_message);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (e->path.size() >= sizeof addr.sun_path)
    return fail("notify socket path too long: '" + e->path + "'");
  std::memcpy(addr.sun_path, e->path.c_str(), e->path.size() + 1);

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(std::string{"socket: "} + std::strerror(errno));
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  ::fchmod(fd, 0600); // Linux: the bound file takes the socket inode's mode
  ::unlink(e->path.c_str()); // a stale socket from an earlier run
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return fail("bind '" + e->path + "': " + std::strerror(err));
  }
  ::chmod(e->path.c_str(), 0600);
  e->fd = fd;
  {
    std::lock_guard<std::mutex> lk(impl_->mtx);
    impl_->entries[key] = e;
    impl_->by_fd[fd] = e;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      int err = errno;
      impl_->detach(key);
      return fail(std::string{"epoll_ctl: "} + std::strerror(err));
    }
  }
  return e->path;
}

void notify_listener::remove(const std::string& key) {
  bool on_listener = std::this_thread::get_id() == impl_->thread.get_id();
  std::shared_ptr<impl::entry> e;
  {
    std::lock_guard<std::mutex> lk(impl_->mtx);
    e = impl_->detach(key);
  }
  // Wait out a callback that may be running for it (not from inside one).
  if (e && !on_listener) std::lock_guard<std::mutex> d(impl_->dispatch);
}

size_t notify_listener::size() const {
  std::lock_guard<std::mutex> lk(impl_->mtx);
  return impl_->entries.size();
}

} // namespace arbor::probe
