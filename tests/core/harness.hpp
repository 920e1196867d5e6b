#pragma once

// A supervision tree under test: real processes, real actor system, and a
// subscriber that waits for events (never for fixed times).

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "arbor/tree.hpp"

namespace arbor::test {

using namespace std::chrono_literals;

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.policy", caf::atom("sharing"));
    set("scheduler.max-threads", size_t{2});
  }
};

/// A fresh temporary directory, removed with everything in it.
struct temp_dir {
  std::filesystem::path path;
  temp_dir();
  ~temp_dir();
  std::string file(const std::string& name) const { return (path / name).string(); }
};

/// `args = ["<test child>", "mode", ...]` as a TOML array.
std::string child_args(std::initializer_list<std::string> args);

class harness {
public:
  /// Loads `toml` (must be valid), builds the tree with logs in the temp dir.
  /// `log_events`: events also go to arbor's logger (arbor/spdlog.hpp).
  explicit harness(const std::string& toml,
                   std::chrono::milliseconds sample_interval = std::chrono::seconds(2),
                   bool log_events = false);
  ~harness();

  void start() { tree->start(); }

  /// Waits until an event satisfies `pred`: the oldest unconsumed one that
  /// does, received earlier or now. Consumes only that event (events of one
  /// instance arrive in order; across instances and actors they may not).
  /// Fails the test on timeout.
  event wait(const std::function<bool(const event&)>& pred,
             std::chrono::milliseconds timeout = 10s);
  /// Waits for event `what` about an offender starting with `who`.
  event wait(event_kind what, const std::string& who = "",
             std::chrono::milliseconds timeout = 10s);

  /// Every event received so far, in order.
  const std::vector<event>& history() const { return history_; }
  size_t count(event_kind what, const std::string& who = "") const;

  instance_status instance(const std::string& id);

  temp_dir dir;
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::unique_ptr<supervision_tree> tree;

private:
  bool pull(std::chrono::steady_clock::time_point deadline);
  std::deque<event> pending_;
  std::vector<event> history_;
};

/// True once `pid` no longer exists or is a zombie; waits up to `timeout`.
bool wait_gone(int pid, std::chrono::milliseconds timeout = 5s);

/// Waits for a file to exist with content; returns its content ("" on timeout).
std::string wait_file(const std::string& path, std::chrono::milliseconds timeout = 5s);

} // namespace arbor::test
