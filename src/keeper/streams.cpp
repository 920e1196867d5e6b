#include "keeper/streams.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace arbor::keeper::detail {

void note(const std::string& text) {
  char stamp[32];
  time_t now = ::time(nullptr);
  struct tm utc{};
  ::gmtime_r(&now, &utc);
  ::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::fprintf(stderr, "%s keeper pid=%d %s\n", stamp, static_cast<int>(::getpid()), text.c_str());
  std::fflush(stderr);
}

stream_table::stream_table(std::chrono::milliseconds idle_flush)
    : idle_(idle_flush), buf_(new char[read_chunk]) {}

stream_table::~stream_table() {
  clear();
}

void stream_table::hold(stream_meta meta, int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0)
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK); // shared with the daemon's copy: it reads non-blocking too
  auto it = by_id_.find(meta.id);
  if (it != by_id_.end())
    forget(*it->second);
  auto e = std::make_unique<entry>();
  e->meta = std::move(meta);
  e->fd = fd;
  e->tag = tag_base_ | next_serial_++;
  entry& ref = *e;
  by_tag_[ref.tag] = &ref;
  by_id_.emplace(ref.meta.id, std::move(e));
  if (draining())
    watch(ref);
}

bool stream_table::release(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end())
    return false;
  forget(*it->second);
  return true;
}

void stream_table::clear() {
  stop_draining();
  while (!by_id_.empty())
    forget(*by_id_.begin()->second);
}

void stream_table::watch(entry& e) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = e.tag;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, e.fd, &ev) != 0)
    note("event=watch_failed stream=" + e.meta.id + " error=\"" + std::strerror(errno) + "\"");
}

void stream_table::forget(entry& e) {
  if (draining()) {
    // Explicitly: the open file description lives on in other processes, so
    // closing our descriptor alone would not take it out of the set.
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, e.fd, nullptr);
    if (!e.partial.empty()) {
      emit(e, e.partial, nullptr, 0, e.partial.size());
      e.partial.clear();
      write_file(file(e.meta.path), e);
    }
  }
  ::close(e.fd);
  by_tag_.erase(e.tag);
  by_id_.erase(e.meta.id); // destroys e
}

void stream_table::start_draining(int epfd, uint64_t tag_base) {
  if (draining())
    return;
  epfd_ = epfd;
  // Re-tag: serials are unique across hold() calls, the base is the loop's.
  tag_base_ = tag_base;
  by_tag_.clear();
  for (auto& kv : by_id_) {
    entry& e = *kv.second;
    e.tag = tag_base_ | next_serial_++;
    e.counts = {};
    by_tag_[e.tag] = &e;
    watch(e);
  }
}

void stream_table::stop_draining() {
  if (!draining())
    return;
  for (auto& kv : by_id_) {
    entry& e = *kv.second;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, e.fd, nullptr);
    if (!e.partial.empty()) {
      emit(e, e.partial, nullptr, 0, e.partial.size());
      e.partial.clear();
      write_file(file(e.meta.path), e);
    }
  }
  files_.clear(); // closes them
  epfd_ = -1;
}

void stream_table::serve(uint64_t tag, clock::time_point now) {
  auto it = by_tag_.find(tag);
  if (!draining() || it == by_tag_.end())
    return;
  entry& e = *it->second;
  ssize_t r = ::read(e.fd, buf_.get(), read_chunk);
  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (r > 0) {
    e.counts.drained += static_cast<uint64_t>(r);
    split(e, buf_.get(), static_cast<size_t>(r));
    write_file(file(e.meta.path), e);
    if (!e.partial.empty())
      e.last_data = now;
    return;
  }
  note("event=stream_closed stream=" + e.meta.id + " drained=" + std::to_string(e.counts.drained)
       + " dropped=" + std::to_string(e.counts.dropped));
  forget(e); // EOF (or a read error): the partial line is written there
}

int stream_table::next_due_ms(clock::time_point now) const {
  if (!draining())
    return -1;
  int best = -1;
  for (auto& kv : by_id_) {
    const entry& e = *kv.second;
    if (e.partial.empty())
      continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(e.last_data + idle_ - now);
    int ms = left.count() < 0 ? 0 : static_cast<int>(left.count()) + 1;
    if (best < 0 || ms < best)
      best = ms;
  }
  return best;
}

void stream_table::flush_due(clock::time_point now) {
  if (!draining())
    return;
  for (auto& kv : by_id_) {
    entry& e = *kv.second;
    if (e.partial.empty() || now < e.last_data + idle_)
      continue;
    emit(e, e.partial, nullptr, 0, e.partial.size());
    e.partial.clear();
    write_file(file(e.meta.path), e);
  }
}

void stream_table::split(entry& e, const char* data, size_t len) {
  while (len > 0) {
    const void* found = std::memchr(data, '\n', len);
    size_t line = found ? static_cast<size_t>(static_cast<const char*>(found) - data) : len;
    while (e.partial.size() + line > max_line) {
      size_t take = max_line - e.partial.size();
      emit(e, e.partial, data, take, e.partial.size() + take);
      e.partial.clear();
      data += take;
      len -= take;
      line -= take;
    }
    if (!found) {
      e.partial.append(data, line);
      return;
    }
    emit(e, e.partial, data, line, e.partial.size() + line + 1);
    e.partial.clear();
    data += line + 1;
    len -= line + 1;
  }
}

void stream_table::emit(entry& e, const std::string& head, const char* tail, size_t tail_len,
                        size_t raw) {
  file_state& f = file(e.meta.path);
  const std::string& date = dates_.text(e.meta.date_format);
  out_ += date;
  out_ += e.meta.prefix;
  out_ += head;
  out_.append(tail ? tail : "", tail_len);
  out_ += '\n';
  out_raw_ += raw;
  if (out_.size() >= read_chunk)
    write_file(f, e);
}

stream_table::file_state& stream_table::file(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end())
    it = files_.emplace(path, file_state{logs::rotating_file{path}, {}}).first;
  return it->second;
}

void stream_table::write_file(file_state& f, entry& e) {
  if (out_.empty()) {
    out_raw_ = 0;
    return;
  }
  logs::write_result r = f.file.write(out_, e.meta.rotate);
  if (!r.error.empty() && r.error != f.error) {
    f.error = r.error;
    note("event=write_failed file=" + e.meta.path + " error=\"" + r.error + "\"");
  }
  if (r.dropped > 0) // approximately: what of it was not written
    e.counts.dropped += out_raw_ * r.dropped / out_.size();
  out_.clear();
  out_raw_ = 0;
}

} // namespace arbor::keeper::detail
