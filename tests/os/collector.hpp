#pragma once

// Collects what an exit_watcher reports, for the test thread to wait on.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "os/exit_watcher.hpp"

namespace arbor::os::test {

struct collector {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<exit_record> records;

  exit_watcher::callback make() {
    return [this](const exit_record& r) {
      std::lock_guard<std::mutex> guard{mtx};
      records.push_back(r);
      cv.notify_all();
    };
  }

  /// Waits until `n` records arrived (bounded); returns a copy of them.
  std::vector<exit_record> wait_for(size_t n, std::chrono::milliseconds timeout
                                              = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, timeout, [&] { return records.size() >= n; });
    return records;
  }
};

} // namespace arbor::os::test
