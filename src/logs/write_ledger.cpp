#include "logs/write_ledger.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace arbor::logs {

namespace {

constexpr int big_pipe = 1 << 20; // room for any app pipe's buffers

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

size_t fill_of(int pipe_read_end) {
  int n = 0;
  return ::ioctl(pipe_read_end, FIONREAD, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
}

/// Reads and drops up to `n` bytes of `fd` (less at EAGAIN or end of file).
/// Returns how many.
size_t discard(int fd, size_t n) {
  size_t done = 0;
  char sink[4096];
  while (done < n) {
    ssize_t r = ::read(fd, sink, std::min(sizeof sink, n - done));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    done += static_cast<size_t>(r);
  }
  return done;
}

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

} // namespace

write_ledger::write_ledger() {
  page_fd_ = ::memfd_create("arbor-log-ledger", MFD_CLOEXEC);
  if (page_fd_ < 0)
    fail("memfd_create");
  if (::ftruncate(page_fd_, sizeof(ledger_page)) != 0)
    fail("ftruncate");
  void* p = ::mmap(nullptr, sizeof(ledger_page), PROT_READ | PROT_WRITE, MAP_SHARED, page_fd_, 0);
  if (p == MAP_FAILED)
    fail("mmap");
  page_ = new (p) ledger_page{}; // zero: idle
  page_->magic = ledger_page::magic_v1;
  if (::pipe2(scratch_, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(trash_, O_CLOEXEC | O_NONBLOCK) != 0)
    fail("pipe2");
  // Bigger than the default 16 buffers, so that a peek or a consume never
  // stops short at the number of buffers an app's pipe holds (best effort).
  ::fcntl(scratch_[1], F_SETPIPE_SZ, big_pipe);
  ::fcntl(trash_[1], F_SETPIPE_SZ, big_pipe);
  null_fd_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
}

write_ledger::~write_ledger() {
  if (page_)
    ::munmap(page_, sizeof(ledger_page));
  for (int* fd : {&page_fd_, &scratch_[0], &scratch_[1], &trash_[0], &trash_[1], &null_fd_})
    close_fd(*fd);
}

ssize_t write_ledger::peek(int fd, char* buf, size_t cap) {
  ssize_t t;
  do
    t = ::tee(fd, scratch_[1], cap, SPLICE_F_NONBLOCK);
  while (t < 0 && errno == EINTR);
  if (t <= 0)
    return t;
  size_t got = 0;
  while (got < static_cast<size_t>(t)) {
    ssize_t r = ::read(scratch_[0], buf + got, static_cast<size_t>(t) - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

void write_ledger::set_key(std::string_view key) {
  size_t n = std::min(key.size(), ledger_page::max_key);
  std::memcpy(page_->key, key.data(), n);
  page_->key_len = static_cast<uint32_t>(n);
}

void write_ledger::begin_write(std::string_view key, int file_fd, uint64_t already) {
  struct stat st{};
  if (::fstat(file_fd, &st) != 0) {
    page_->phase.store(ledger_page::idle, std::memory_order_release);
    return;
  }
  page_->phase.store(ledger_page::idle, std::memory_order_release);
  set_key(key);
  page_->dev = static_cast<uint64_t>(st.st_dev);
  page_->ino = static_cast<uint64_t>(st.st_ino);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  page_->size_before = size > already ? size - already : 0;
  page_->phase.store(ledger_page::writing, std::memory_order_release);
}

bool write_ledger::consume(std::string_view key, int fd, size_t n) {
  if (n == 0)
    return true;
  // From `writing` straight to `consuming` (never idle in between: that would
  // let the keeper write the lines once more). The key only changes from idle.
  std::string_view current{page_->key, page_->key_len};
  if (page_->phase.load(std::memory_order_relaxed) != ledger_page::writing || current != key) {
    page_->phase.store(ledger_page::idle, std::memory_order_release);
    set_key(key);
  }
  page_->take = n;
  page_->trash_before = fill_of(trash_[0]);
  page_->phase.store(ledger_page::consuming, std::memory_order_release);
  size_t moved = 0;
  while (moved < n) {
    ssize_t s = ::splice(fd, nullptr, trash_[1], nullptr, n - moved, SPLICE_F_NONBLOCK);
    if (s < 0 && errno == EINTR)
      continue;
    if (s <= 0)
      break;
    moved += static_cast<size_t>(s);
  }
  page_->phase.store(ledger_page::idle, std::memory_order_release);
  // Empty the trash (it is not read again: its fill only counts a move).
  ssize_t spliced = -1;
  if (null_fd_ >= 0) {
    do
      spliced = ::splice(trash_[0], nullptr, null_fd_, nullptr, big_pipe, SPLICE_F_NONBLOCK);
    while (spliced > 0 || (spliced < 0 && errno == EINTR));
  }
  if (null_fd_ < 0 || (spliced < 0 && errno != EAGAIN))
    discard(trash_[0], SIZE_MAX); // no /dev/null, or no splice to it here
  // What could not be moved (the trash was full): read it. Not covered by
  // the page; never seen with a 1 MiB trash and a 64 KiB step.
  return moved == n || discard(fd, n - moved) == n - moved;
}

std::string ledger_recover(int page_fd, int trash_fd,
                           const std::function<bool(const std::string&, ledger_stream&)>& find) {
  struct stat st{};
  if (page_fd < 0 || ::fstat(page_fd, &st) != 0
      || st.st_size < static_cast<off_t>(sizeof(ledger_page)))
    return "";
  void* p = ::mmap(nullptr, sizeof(ledger_page), PROT_READ | PROT_WRITE, MAP_SHARED, page_fd, 0);
  if (p == MAP_FAILED)
    return "";
  auto* page = static_cast<ledger_page*>(p);
  std::string done;
  uint32_t phase = page->phase.load(std::memory_order_acquire);
  std::string key{page->key, std::min<size_t>(page->key_len, ledger_page::max_key)};
  ledger_stream s;
  if (page->magic != ledger_page::magic_v1 || phase == ledger_page::idle || !find(key, s)) {
    // nothing half done, or not a stream held here
  } else if (phase == ledger_page::writing) {
    int f = ::open(s.path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    struct stat fs{};
    if (f >= 0 && ::fstat(f, &fs) == 0 && static_cast<uint64_t>(fs.st_dev) == page->dev
        && static_cast<uint64_t>(fs.st_ino) == page->ino
        && static_cast<uint64_t>(fs.st_size) > page->size_before
        && ::ftruncate(f, static_cast<off_t>(page->size_before)) == 0)
      done = "cut " + s.path + " back by "
             + std::to_string(static_cast<uint64_t>(fs.st_size) - page->size_before)
             + " bytes of " + key;
    if (f >= 0)
      ::close(f);
  } else if (phase == ledger_page::consuming) {
    size_t fill = fill_of(trash_fd);
    size_t moved = fill > page->trash_before ? fill - page->trash_before : 0;
    size_t left = page->take > moved ? page->take - moved : 0;
    size_t dropped = discard(s.fd, left);
    if (left > 0)
      done = "took " + std::to_string(dropped) + " written bytes of " + key + " out of its pipe";
  }
  page->phase.store(ledger_page::idle, std::memory_order_release);
  ::munmap(p, sizeof(ledger_page));
  return done;
}

} // namespace arbor::logs
