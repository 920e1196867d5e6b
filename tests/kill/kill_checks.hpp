#pragma once

// The kill harness's invariants, each returning what it found wrong (empty:
// it holds), one line per problem with the pids and command lines.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kill_world.hpp"

namespace arbor::test::kill {

/// What should run once the tree settled after a kill and `arbor up`.
struct expected_apps {
  std::map<std::string, int> stable; ///< app → instances: every index live once
  std::map<std::string, int> storm;  ///< app → instances: each index live at most once
  std::map<std::string, std::string> command_has; ///< app → a word its command line holds
};

/// Against the processes found by their marker: an index of an app with two
/// live processes (doubled), a process of an app or index that should not
/// run (orphan), a command that is not the configured one (stale command).
std::vector<std::string> process_problems(const home_processes& found, const expected_apps& want);

/// Every stable index with a live process (else missing, with arbor's
/// state of it), and against `arbor status --json`: each up (running or
/// ready) with the pid of its one live process (else untracked: arbor lost
/// track of it, and the next start or `down` would double or orphan it).
std::vector<std::string> arbor_view_problems(const nlohmann::json& status,
                                             const home_processes& found,
                                             const expected_apps& want);

/// The numbered lines ("<pid> <seq>", then "END <pid> <n>") of `app` in
/// every file <logs>/<app>.out.log* (rotated ones included): per pid, a seq
/// seen twice (doubled), a hole below its highest seq (lost), an END whose
/// 1..n are not all there (lost tail). `must_end`: pids whose END line must
/// be present (they were stopped). `lines_read`: how many numbered lines.
std::vector<std::string> line_problems(const std::string& logs_dir, const std::string& app,
                                       const std::vector<int>& must_end, size_t& lines_read);

/// Pids of `app` that have written their END line.
std::vector<int> ended_pids(const std::string& logs_dir, const std::string& app);

} // namespace arbor::test::kill
