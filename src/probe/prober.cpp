#include "probe/prober.hpp"

#include <algorithm>
#include <exception>

namespace arbor::probe {

probe_result run_check(const health_check_spec& spec, uint16_t port, uint32_t instance) {
  auto target = expand(spec.target, port, instance);
  switch (spec.type) {
    case health_check_spec::kind::http: return check_http(target, spec.timeout);
    case health_check_spec::kind::tcp: return check_tcp(target, spec.timeout);
    case health_check_spec::kind::exec: return check_exec(target, spec.timeout);
    case health_check_spec::kind::none: break;
  }
  return probe_result{true, "no check", std::chrono::milliseconds{0}};
}

// --- prober ------------------------------------------------------------------

prober::prober(size_t workers, size_t max_queued) : max_queued_(max_queued) {
  workers = std::max<size_t>(workers, 1);
  workers_.reserve(workers);
  try {
    for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { run(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lk(mtx_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    throw;
  }
}

prober::~prober() {
  {
    std::lock_guard<std::mutex> lk(mtx_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

uint64_t prober::submit(const health_check_spec& spec, uint16_t port, uint32_t instance,
                        callback done, std::optional<own_port_rule> own) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lk(mtx_);
    id = ++next_id_;
    if (queue_.size() < max_queued_ && !stopping_) {
      queue_.push_back(job{id, spec, port, instance, std::move(done), std::move(own)});
      cv_.notify_one();
      return id;
    }
  }
  if (done) {
    try {
      done(probe_result{false, "prober busy", std::chrono::milliseconds{0}});
    } catch (...) {
    }
  }
  return id;
}

size_t prober::queued() const {
  std::lock_guard<std::mutex> lk(mtx_);
  return queue_.size();
}

void prober::run() {
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lk(mtx_);
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    probe_result r;
    try {
      r = j.own ? check_own_port(j.spec, j.port, j.instance, *j.own)
                : run_check(j.spec, j.port, j.instance);
    } catch (const std::exception& e) {
      r = probe_result{false, std::string{"probe failed: "} + e.what(), std::chrono::milliseconds{0}};
    }
    if (j.done) {
      try {
        j.done(r);
      } catch (...) {
      }
    }
  }
}

// --- health_state ------------------------------------------------------------

health_state::health_state(const health_check_spec& spec, time_point started) : spec_(spec) {
  reset(started);
}

void health_state::reset(time_point started) {
  started_ = started;
  next_count_at_ = started + std::max(spec_.start_period, spec_.interval);
  startup_delay_ = startup_first;
  ready_ = false;
  reported_ = false;
  failures_ = 0;
  last_detail_.clear();
}

std::chrono::milliseconds health_state::next_delay() const {
  return ready_ ? spec_.interval : startup_delay_;
}

health_event health_state::record(const probe_result& r, time_point now) {
  last_detail_ = r.detail;
  if (r.ok) {
    failures_ = 0;
    reported_ = false;
    if (ready_) return health_event::none;
    ready_ = true;
    return health_event::became_ready;
  }
  if (!ready_) startup_delay_ = std::min(startup_delay_ * 2, startup_max);
  if (now < started_ + spec_.start_period) return health_event::none;
  if (!ready_) {
    if (now < next_count_at_) return health_event::none;
    next_count_at_ = now + spec_.interval;
  }
  ++failures_;
  if (!reported_ && failures_ >= std::max<uint32_t>(spec_.failures, 1)) {
    reported_ = true;
    return health_event::unhealthy;
  }
  return health_event::none;
}

} // namespace arbor::probe
