#include "journal/journal_store.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "journal/journal_json.hpp"

namespace arbor::journal {

namespace {

/// A seed that differs between processes and between stores of one process.
std::mt19937_64 seeded_rng() {
  static std::atomic<uint64_t> counter{0};
  uint64_t seed = static_cast<uint64_t>(
                    std::chrono::steady_clock::now().time_since_epoch().count())
                  ^ (static_cast<uint64_t>(::getpid()) << 32) ^ (++counter * 0x9e3779b97f4a7c15ull);
  try {
    std::random_device rd;
    seed ^= (static_cast<uint64_t>(rd()) << 32) | rd();
  } catch (...) {
    // No entropy source: time, pid and counter still tell stores apart.
  }
  return std::mt19937_64{seed};
}

} // namespace

journal_store::journal_store(std::string path, store_options opts)
    : path_(std::move(path)), opts_(opts), rng_(seeded_rng()) {
  thread_ = std::thread{[this] { run(); }};
}

journal_store::~journal_store() {
  flush();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (log_fd_ >= 0)
    ::close(log_fd_);
}

void journal_store::touch() {
  ++gen_;
  wake_.notify_one();
}

void journal_store::load(const journal& j) {
  std::lock_guard<std::mutex> guard{mtx_};
  version_ = j.version;
  daemon_pid_ = j.daemon_pid;
  config_ = j.config;
  scale_ = j.scale;
  records_.clear();
  for (auto& r : j.instances)
    records_[{r.app, r.index}] = r;
  dirty_.clear(); // a compaction writes it all
  dirty_scale_.clear();
  erased_apps_.clear();
  dirty_meta_ = false;
  full_ = true;
  touch();
}

void journal_store::put(instance_record r) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto k = std::make_pair(r.app, r.index);
  auto it = records_.find(k);
  if (it != records_.end()) {
    if (it->second == r)
      return; // nothing new: no write
    if (r.generation < it->second.generation)
      return; // an older run of the instance (a reload's outgoing one) speaks last
    it->second = std::move(r);
  } else {
    records_.emplace(k, std::move(r));
  }
  if (!full_)
    dirty_.insert(std::move(k));
  touch();
}

void journal_store::erase(const std::string& app, uint32_t index) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (records_.erase({app, index}) == 0)
    return;
  if (!full_)
    dirty_.insert({app, index});
  touch();
}

void journal_store::erase_app(const std::string& app) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto first = records_.lower_bound({app, 0});
  auto last = first;
  while (last != records_.end() && last->first.first == app)
    ++last;
  bool changed = first != last;
  records_.erase(first, last);
  changed = scale_.erase(app) > 0 || changed;
  if (!changed)
    return;
  if (!full_) {
    // One erase_app line covers the app's dirty keys that are gone now, and
    // goes before any line that puts the app back (take_changes).
    if (std::find(erased_apps_.begin(), erased_apps_.end(), app) == erased_apps_.end())
      erased_apps_.push_back(app);
    dirty_scale_.erase(app);
  }
  touch();
}

void journal_store::set_scale(const std::string& app, uint32_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = scale_.find(app);
  if (it != scale_.end() && it->second == n)
    return;
  scale_[app] = n;
  if (!full_)
    dirty_scale_.insert(app);
  touch();
}

void journal_store::set_meta(int32_t daemon_pid, std::string config) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (daemon_pid_ == daemon_pid && config_ == config)
    return;
  daemon_pid_ = daemon_pid;
  config_ = std::move(config);
  dirty_meta_ = true;
  touch();
}

journal journal_store::build() const {
  journal j;
  j.version = version_;
  j.daemon_pid = daemon_pid_;
  j.config = config_;
  j.scale = scale_;
  j.instances.reserve(records_.size());
  for (auto& kv : records_)
    j.instances.push_back(kv.second);
  return j;
}

std::vector<journal_change> journal_store::take_changes() {
  std::vector<journal_change> out;
  out.reserve(erased_apps_.size() + dirty_scale_.size() + dirty_.size() + 1);
  using op = journal_change::op;
  // Order (see journal_log.hpp): erase_app, meta, scale, then one line per key.
  for (auto& app : erased_apps_) {
    out.emplace_back().what = op::erase_app;
    out.back().record.app = app;
  }
  if (dirty_meta_) {
    auto& c = out.emplace_back();
    c.what = op::meta;
    c.daemon_pid = daemon_pid_;
    c.config = config_;
  }
  for (auto& app : dirty_scale_) {
    auto it = scale_.find(app);
    if (it == scale_.end())
      continue; // only erase_app removes a scale entry, and its line says so
    auto& c = out.emplace_back();
    c.what = op::scale;
    c.record.app = app;
    c.n = it->second;
  }
  for (auto& k : dirty_) {
    auto it = records_.find(k);
    if (it != records_.end()) {
      auto& c = out.emplace_back();
      c.what = op::put;
      c.record = it->second;
    } else if (std::find(erased_apps_.begin(), erased_apps_.end(), k.first)
               == erased_apps_.end()) {
      auto& c = out.emplace_back();
      c.what = op::erase;
      c.record.app = k.first;
      c.record.index = k.second;
    }
  }
  dirty_.clear();
  dirty_scale_.clear();
  erased_apps_.clear();
  dirty_meta_ = false;
  return out;
}

journal journal_store::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return build();
}

uint64_t journal_store::writes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return writes_;
}

uint64_t journal_store::compactions() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return compactions_;
}

std::string journal_store::last_error() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return last_error_;
}

bool journal_store::flush(std::string* err) {
  std::unique_lock<std::mutex> lock{mtx_};
  uint64_t target = gen_;
  if (written_gen_ < target) {
    urgent_gen_ = std::max(urgent_gen_, target);
    wake_.notify_one();
    done_.wait(lock, [&] { return written_gen_ >= target; });
  }
  if (err)
    *err = last_error_;
  return last_error_.empty();
}

void journal_store::remove_files() {
  flush();
  std::unique_lock<std::mutex> lock{mtx_};
  removed_ = true;
  done_.wait(lock, [&] { return !busy_; }); // e.g. a quiet compaction in flight
  ::unlink(path_.c_str());
  ::unlink(log_path(path_).c_str());
}

uint64_t journal_store::new_epoch() {
  // 53 bits: exact in any JSON reader (jq too); never 0, never the current one.
  uint64_t e;
  do
    e = rng_() & ((uint64_t{1} << 53) - 1);
  while (e == 0 || e == epoch_);
  return e;
}

bool journal_store::compact(const journal& j, std::string& err) {
  const uint64_t epoch = new_epoch();
  std::string text;
  if (!encode_to(j, epoch, text, err))
    return false;
  // From here on the old log is stale whatever happens: appends stop.
  if (log_fd_ >= 0) {
    ::close(log_fd_);
    log_fd_ = -1;
  }
  // 1-2: the snapshot of the new epoch replaces the old one.
  if (!detail::write_file_atomic(path_, text, err, opts_.sync))
    return false;
  epoch_ = epoch;
  snapshot_bytes_ = text.size();
  // 3: an empty log of the new epoch replaces the old log.
  static std::atomic<uint64_t> counter{0};
  const std::string log = log_path(path_);
  const std::string tmp =
    log + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++counter);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = detail::errno_text("create", tmp, errno);
    return false;
  }
  const std::string header = encode_log_header(epoch);
  bool ok = detail::write_all(fd, header) && (!opts_.sync || ::fdatasync(fd) == 0);
  if (!ok)
    err = detail::errno_text("write", tmp, errno);
  else if (::rename(tmp.c_str(), log.c_str()) != 0) {
    err = detail::errno_text("rename to", log, errno);
    ok = false;
  }
  if (!ok) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (opts_.sync)
    detail::sync_dir_of(log);
  log_fd_ = fd; // 4: appends go here
  log_bytes_ = 0;
  return true;
}

bool journal_store::append(const std::vector<journal_change>& changes, std::string& err) {
  std::string text;
  try {
    for (auto& c : changes)
      encode_change(c, text);
  } catch (const std::exception& e) { // bad_alloc
    err = std::string{"journal: "} + e.what();
    return false;
  }
  const std::string log = log_path(path_);
  if (!detail::write_all(log_fd_, text) || (opts_.sync && ::fdatasync(log_fd_) != 0)) {
    err = detail::errno_text("append to", log, errno);
    // Maybe a torn line at the end now: never append behind it.
    ::close(log_fd_);
    log_fd_ = -1;
    return false;
  }
  log_bytes_ += text.size();
  return true;
}

void journal_store::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    auto changed = [&] { return stopping_ || gen_ != written_gen_; };
    bool quiet_due = false;
    if (!last_error_.empty()) {
      // The last write failed (ENOSPC...): try again now and then, even unchanged.
      wake_.wait_for(lock, std::chrono::seconds(1), changed);
    } else if (log_bytes_ > 0 && opts_.quiet_compact.count() > 0 && !removed_) {
      // Appended since the last compaction: compact once it is quiet.
      quiet_due = !wake_.wait_for(lock, opts_.quiet_compact, changed);
    } else {
      wake_.wait(lock, changed);
    }
    if (stopping_ && gen_ == written_gen_)
      return; // nothing left (the destructor flushed first)
    if (removed_) { // a clean stop removed the files: keep them removed
      written_gen_ = gen_;
      done_.notify_all();
      if (stopping_)
        return;
      continue;
    }
    if (opts_.delay.count() > 0 && !stopping_ && !quiet_due && urgent_gen_ <= written_gen_) {
      // Gather the burst; a flush() or the destructor cuts the wait short.
      wake_.wait_for(lock, opts_.delay, [&] { return stopping_ || urgent_gen_ > written_gen_; });
    }
    const uint64_t gen = gen_;
    const uint64_t limit =
      std::max<uint64_t>(opts_.compact_min, uint64_t{opts_.compact_factor} * snapshot_bytes_);
    const bool full = full_ || quiet_due || log_fd_ < 0 || log_bytes_ >= limit;
    journal j;
    std::vector<journal_change> changes;
    try {
      if (full) {
        j = build();
        dirty_.clear(); // all of it is in j
        dirty_scale_.clear();
        erased_apps_.clear();
        dirty_meta_ = false;
        full_ = false;
      } else {
        changes = take_changes();
      }
    } catch (const std::exception& e) { // bad_alloc: report it, do not die
      written_gen_ = gen;
      full_ = true;
      last_error_ = std::string{"journal: "} + e.what();
      done_.notify_all();
      continue;
    }
    busy_ = true;
    lock.unlock();
    std::string err;
    bool ok = full ? compact(j, err) : append(changes, err);
    if (failing_ != !ok && opts_.on_failure) // told before flush() returns
      opts_.on_failure(ok ? std::string{} : err);
    lock.lock();
    failing_ = !ok;
    busy_ = false;
    written_gen_ = gen;
    if (ok) {
      ++writes_;
      if (full)
        ++compactions_;
      last_error_.clear();
    } else {
      last_error_ = err;
      full_ = true; // the changes taken are in no file: the retry writes it all
    }
    done_.notify_all();
  }
}

} // namespace arbor::journal
