#pragma once

// What the proc_stats and sampler tests share: a test child in its own
// process group, a pid that cannot exist, a recorder of sampler reports, a
// temporary directory.

#include <catch2/catch.hpp>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

#include "os/proc_stats.hpp"
#include "os/spawn.hpp"
#include "util.hpp"

namespace arbor::os::test {

inline const std::string child_bin = ARBOR_TEST_CHILD;
inline constexpr uint64_t mib = 1024 * 1024;

/// A test child in its own process group, stdout on a pipe; the whole group
/// is killed and the child reaped when this leaves scope.
class child {
public:
  explicit child(std::vector<std::string> args, const std::string& path = child_bin) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    args.insert(args.begin(), path);
    spawn_plan plan{path, args, {}, ""};
    auto res = plan.spawn(fds[1], -1);
    close(fds[1]);
    rd_ = fds[0];
    REQUIRE(res.ok());
    pid_ = res.pid;
  }
  ~child() {
    if (pid_ > 1) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      reap(pid_);
    }
    if (rd_ >= 0)
      close(rd_);
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }
  /// Waits (bounded) for the child's "ready" line.
  bool ready() { return read_line(rd_) == "ready"; }

private:
  pid_t pid_ = -1;
  int rd_ = -1;
};

/// A pid that cannot exist: pids are below pid_max.
inline pid_t impossible_pid() {
  long max = 0;
  std::ifstream in("/proc/sys/kernel/pid_max");
  in >> max;
  return max > 0 && max < INT_MAX ? static_cast<pid_t>(max) : INT_MAX;
}

/// What a sampler reported, for the test thread to wait on.
struct reports {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::vector<std::pair<pid_t, usage>>> seen;

  sampler::sample_fn make() {
    return [this](const std::vector<std::pair<pid_t, usage>>& r) {
      std::lock_guard<std::mutex> guard{mtx};
      seen.push_back(r);
      cv.notify_all();
    };
  }

  /// Waits (bounded) until `pred(seen)` holds; returns whether it did.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, timeout, [&] { return pred(seen); });
  }

  size_t count() {
    std::lock_guard<std::mutex> guard{mtx};
    return seen.size();
  }
};

struct temp_dir {
  std::string path;
  std::vector<std::string> links;
  temp_dir() {
    char tmpl[] = "/tmp/arbor-stats-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    for (const auto& l : links)
      unlink(l.c_str());
    rmdir(path.c_str());
  }
  std::string link(const std::string& name, const std::string& target) {
    std::string p = path + "/" + name;
    REQUIRE(symlink(target.c_str(), p.c_str()) == 0);
    links.push_back(p);
    return p;
  }
};

} // namespace arbor::os::test
