#pragma once

// The daemon's side, played by the test: starting the keeper as a daemon
// would, and stripping prefixes off what it wrote. Needs Catch2.

#include <catch2/catch.hpp>

#include "keeper/keeper_client.hpp"
#include "helpers.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/prctl.h>

namespace arbor::keeper::test {

inline const std::string keeper_bin = ARBOR_KEEPER_BIN;

// A keeper detaches: its launcher exits and it is orphaned. Adopt orphans, so
// the guards below reap the keepers whatever pid 1 does with zombies.
inline const bool adopting = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;

/// Starts (or finds) the keeper of `home` as a daemon would; `k` watches it.
inline std::optional<std::vector<handed_stream>> start_daemon(keeper_client& d,
                                                              const std::string& home,
                                                              std::unique_ptr<process>& k,
                                                              std::vector<std::string> args = {}) {
  std::string err;
  args.insert(args.end(), {"--idle-flush", "50"});
  auto handed = d.start(home, keeper_bin, err, std::chrono::seconds(5), args);
  INFO(err);
  REQUIRE(handed);
  REQUIRE(adopting);
  if (!k) // our child now (we adopt orphans): the guard kills and reaps it
    k = std::make_unique<process>(d.keeper_pid(), true);
  REQUIRE(k->pid == d.keeper_pid());
  return handed;
}

inline std::vector<std::string> strip(const std::vector<std::string>& lines,
                                      const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& l : lines) {
    REQUIRE(l.compare(0, prefix.size(), prefix) == 0);
    out.push_back(l.substr(prefix.size()));
  }
  return out;
}

} // namespace arbor::keeper::test
