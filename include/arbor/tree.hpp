#pragma once

// Running a supervision tree inside a caf::actor_system: the entry point for
// `arbor run`, the daemon, and services that embed arbor.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "arbor/messages.hpp"
#include "arbor/spec.hpp"
#include "arbor/state.hpp"

namespace arbor {

/// What became of an app's output (see supervision_tree::log_stats).
struct log_stats {
  uint64_t bytes_written = 0;
  uint64_t bytes_dropped = 0;   ///< lost to open/write errors (disk full, ...)
  uint64_t rotations = 0;
  std::string last_error;       ///< "" if none
};

struct tree_options {
  /// Directory for the apps' stdout/stderr: `<app>.out.log` / `<app>.err.log`,
  /// instances merged with a `<app>#<i> | ` prefix, rotated per the app's
  /// log_* settings; created if missing. "" discards the output.
  std::string log_dir;
  /// Write every event as an OTP-style line through arbor's logger
  /// (arbor/spdlog.hpp: stderr unless set_logger says otherwise).
  bool log_events = false;
  /// How often the process trees of apps with `max_memory` are sampled (one
  /// timer for all of them; none of them: no timer). Every other tree is
  /// sampled when a status asks, at most once a second. A CPU% needs a
  /// window of at least half of this.
  std::chrono::milliseconds sample_interval{2000};
  /// Private directory for the sd_notify sockets of `ready = "notify"` apps
  /// (created, mode 0700). "" = a temporary one, made when first needed.
  std::string runtime_dir;
  /// Survive a crash of this process: keep a journal of every instance in
  /// `<state_dir>/state.json` and the apps' output pipes in an arbor-keeper
  /// process, and on construction re-adopt what a previous, crashed tree
  /// with the same state_dir left running. Also makes this process a child
  /// subreaper that reaps what the apps orphan. "" = off (embedded trees).
  std::string state_dir;
  /// The arbor-keeper binary ("" = next to this executable).
  std::string keeper_binary;
  /// With state_dir: how the keeper starts this process again if it dies
  /// (argv; argv[0] the executable; this process's environment goes with
  /// it). Empty (the default): never replaced (`arbor run`, an embedder).
  std::vector<std::string> daemon_command;
  /// With log_dir: every line of the apps' output also goes to this
  /// process's stdout (their stdout) and stderr (their stderr), prefixed as
  /// in the files (`arbor run` in a container, as `docker compose` shows
  /// it); `echo_color` gives each app's prefix a colour of its own.
  bool echo_output = false;
  bool echo_color = false;
};

/// A supervision tree of OS processes: root → groups → apps → instances.
/// Building it spawns the actors but starts no process; start() does.
/// Not copyable; destroying it stops whatever still runs (gracefully, with
/// each app's kill_timeout) and terminates its actors.
class supervision_tree {
public:
  /// Checks `spec` with the config loader's rules (depends_on names resolved
  /// to full paths, no dependency cycles, ranges and combinations of keys)
  /// and starts children in depends_on order. Throws std::invalid_argument
  /// whose what() lists every broken rule, one per line, worded as the loader
  /// words it ("dependency cycle: a -> b -> a"; with `file:line:col: ` when
  /// the spec came from a file). Throws std::system_error if the exit watcher
  /// thread cannot be set up, or if `opts.log_dir` cannot be created.
  supervision_tree(caf::actor_system& sys, tree_spec spec, tree_options opts = {});
  ~supervision_tree();
  supervision_tree(const supervision_tree&) = delete;
  supervision_tree& operator=(const supervision_tree&) = delete;

  /// Starts every app in start order (asynchronous: follow events()).
  void start();

  /// Stops the whole tree in reverse start order and waits until every
  /// process is gone or `timeout` passed. Returns false on timeout.
  bool stop(std::chrono::milliseconds timeout = std::chrono::hours(24));

  /// A snapshot of the whole tree; an error if it does not answer in time.
  caf::expected<node_status> status(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The root supervisor: accepts start_atom, stop_atom (-> bool), status_atom
  /// (-> node_status).
  caf::actor root() const;
  /// The event bus: send it subscribe_atom from an actor to receive `event`s.
  caf::actor events() const;

  /// The spec the tree was built with. An `apply_atom` sent to root()
  /// changes the running tree, not this.
  const tree_spec& spec() const;

  /// The live log files of `app`: {stdout file, stderr file}; empty when the
  /// tree discards output.
  std::pair<std::string, std::string> log_files(const std::string& app) const;
  /// Truncates `app`'s log files (rotated ones removed). False when output is
  /// discarded, the app is unknown, or a file could not be truncated.
  bool flush_logs(const std::string& app);
  /// The app's log counters (zeros when output is discarded).
  log_stats logs_of(const std::string& app) const;

  /// With state_dir: how arbor-keeper starts this process again if it dies,
  /// from now on (tree_options::daemon_command when the tree was built). A
  /// daemon that applied another file or environment gives its new command.
  void set_daemon_command(std::vector<std::string> argv);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor
