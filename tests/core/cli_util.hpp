#pragma once

// Running the real `arbor` binary from tests, each test with its own home.

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace arbor::test {

struct cli_result {
  int rc = -1;          ///< exit code; -1 if it timed out (then it was killed)
  std::string out, err;
};

/// Runs `argv` (argv[0] a path, or a name found in PATH) with our environment
/// plus `env` ("NAME=value", replacing ours), stdin from /dev/null, output
/// collected through files in `scratch_dir`; waits for it.
cli_result run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& scratch_dir,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Runs `arbor ARGS...` with ARBOR_HOME=home and no colour; waits for it.
cli_result run_arbor(const std::vector<std::string>& args, const std::string& home,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));


/// `arbor ARGS... --json`, parsed; fails the test if it does not exit 0.
nlohmann::json arbor_json(std::vector<std::string> args, const std::string& home);

/// Writes `toml` to `cfg` and runs `arbor up` on it for `home`; REQUIREs
/// that it started.
void up_with(const std::string& home, const std::string& cfg, const std::string& toml);

/// A whole file ("" if it cannot be read).
std::string slurp(const std::string& path);

/// The pid in <home>/arbor.pid (0 if none).
int daemon_pid(const std::string& home);

/// /proc/<pid>/maps of the daemon of `home`; fails the test if there is none.
std::string daemon_maps(const std::string& home);

/// One instance's entry of `status --json` ("web.api#0"); null if none.
nlohmann::json instance_of(const std::string& home, const std::string& id);

/// pid of each instance ("web.api#0" → 4242) from `status --json`.
std::map<std::string, int> pids_of(const std::string& home);

/// A pidfd for `pid` if that process runs with ARBOR_HOME=home (a daemon or
/// an instance of that home), else -1: never signal a pid that may have been
/// reused by someone else's process.
int pidfd_of_home(int pid, const std::string& home);

/// Every process but us running with ARBOR_HOME=home (a zombie's environment
/// cannot be read: only processes that still run).
std::vector<int> processes_of_home(const std::string& home);

/// Sends `sig` to `pid` through a pidfd if it is a process of `home`.
bool signal_if_of_home(int pid, const std::string& home, int sig);

/// Polls `p` every 20 ms (another process's files or /proc, which nothing
/// notifies us about) until it holds or `timeout` passes; its last answer.
template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return p();
}

/// The lines `<prefix>tick N` of a log (the test child's `tick` mode): how
/// many, how many others start with `prefix`, and the first gap or
/// duplicate ("" if none).
struct tick_check {
  long lines = 0, broken = 0;
  std::string first_gap;
};
tick_check check_ticks(const std::string& log, const std::string& prefix);

/// Processes of `home` whose command line starts with a path ending in
/// `name` ("arbor-keeper", "arbor-daemon").
std::vector<int> programs_of_home(const std::string& home, const std::string& name);

/// SIGKILLs the daemon of `home` and waits until the one arbor-keeper starts
/// in its place answers (30 s at most); false if it does not.
bool replace_daemon(const std::string& home);

/// Stops a daemon left behind by a failing test (by its pid file), then
/// SIGKILLs every process still running with ARBOR_HOME=home: the keeper and
/// apps of a daemon that died, which stay up waiting for the next daemon.
struct daemon_guard {
  std::string home;
  ~daemon_guard();
};

} // namespace arbor::test
