#include "keeper/journal_store.hpp"

#include <algorithm>

namespace arbor::keeper {

journal_store::journal_store(std::string path, store_options opts)
    : path_(std::move(path)), opts_(opts) {
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
  touch();
}

void journal_store::put(instance_record r) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto key = std::make_pair(r.app, r.index);
  auto it = records_.find(key);
  if (it != records_.end()) {
    if (it->second == r)
      return; // nothing new: no write
    it->second = std::move(r);
  } else {
    records_.emplace(std::move(key), std::move(r));
  }
  touch();
}

void journal_store::erase(const std::string& app, uint32_t index) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (records_.erase({app, index}) > 0)
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
  if (changed)
    touch();
}

void journal_store::set_scale(const std::string& app, uint32_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = scale_.find(app);
  if (it != scale_.end() && it->second == n)
    return;
  scale_[app] = n;
  touch();
}

void journal_store::set_meta(int32_t daemon_pid, std::string config) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (daemon_pid_ == daemon_pid && config_ == config)
    return;
  daemon_pid_ = daemon_pid;
  config_ = std::move(config);
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

journal journal_store::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return build();
}

uint64_t journal_store::writes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return writes_;
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

void journal_store::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    auto changed = [&] { return stopping_ || gen_ != written_gen_; };
    if (last_error_.empty())
      wake_.wait(lock, changed);
    else // the last write failed (ENOSPC...): try again now and then, even unchanged
      wake_.wait_for(lock, std::chrono::seconds(1), changed);
    if (stopping_ && gen_ == written_gen_)
      return; // nothing left (the destructor flushed first)
    if (opts_.delay.count() > 0 && !stopping_ && urgent_gen_ <= written_gen_) {
      // Gather the burst; a flush() or the destructor cuts the wait short.
      wake_.wait_for(lock, opts_.delay, [&] { return stopping_ || urgent_gen_ > written_gen_; });
    }
    uint64_t gen = gen_;
    journal j;
    try {
      j = build();
    } catch (const std::exception& e) { // bad_alloc: report it, do not die
      written_gen_ = gen;
      last_error_ = std::string{"journal: "} + e.what();
      done_.notify_all();
      continue;
    }
    lock.unlock();
    std::string err;
    bool ok = write_atomic(path_, j, err, opts_.sync);
    lock.lock();
    written_gen_ = gen;
    if (ok) {
      ++writes_;
      last_error_.clear();
    } else {
      last_error_ = err;
    }
    done_.notify_all();
  }
}

} // namespace arbor::keeper
