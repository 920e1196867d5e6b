#pragma once

// The dashboard's sparklines: per instance, memory and CPU over the last 10
// minutes, taken from the tree answers the dashboard asks for (at most one
// sample per instance every 5 s). Nothing is sampled while no dashboard asks:
// the daemon does no periodic work for [web]. Thread-safe.

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace arbor::detail {

class sample_rings {
public:
  static constexpr int64_t every_ms = 5000;
  static constexpr size_t capacity = 120; ///< 10 minutes

  /// Takes each instance's memory_bytes and cpu_percent from `node` (a
  /// protocol `node`, the tree's root); forgets instances no longer in it.
  void record(const nlohmann::json& node, int64_t now_ms);
  /// {"every_ms":5000,"instances":{"web#0":[[at_ms,memory_bytes,cpu_percent],...]}}
  /// (null where an instance was not sampled).
  nlohmann::json to_json() const;

private:
  struct sample {
    int64_t at_ms;
    nlohmann::json memory, cpu;
  };
  void collect(const nlohmann::json& node, int64_t now_ms, std::map<std::string, bool>& seen);

  mutable std::mutex m_;
  std::map<std::string, std::deque<sample>> rings_;
};

} // namespace arbor::detail
