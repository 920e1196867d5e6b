#include "web_samples.hpp"

namespace arbor::detail {

using nlohmann::json;

void sample_rings::collect(const json& node, int64_t now_ms, std::map<std::string, bool>& seen) {
  for (auto& x : node.value("instances", json::array())) {
    auto id = x.value("id", std::string{});
    seen[id] = true;
    auto& ring = rings_[id];
    // Several dashboards ask every 5 s each: one sample per interval.
    if (!ring.empty() && now_ms - ring.back().at_ms < every_ms * 9 / 10) continue;
    ring.push_back({now_ms, x.value("memory_bytes", json()), x.value("cpu_percent", json())});
    if (ring.size() > capacity) ring.pop_front();
  }
  for (auto& c : node.value("children", json::array())) collect(c, now_ms, seen);
}

void sample_rings::record(const json& node, int64_t now_ms) {
  std::lock_guard<std::mutex> g{m_};
  std::map<std::string, bool> seen;
  collect(node, now_ms, seen);
  for (auto it = rings_.begin(); it != rings_.end();)
    it = seen.count(it->first) ? std::next(it) : rings_.erase(it);
}

json sample_rings::to_json() const {
  std::lock_guard<std::mutex> g{m_};
  json all = json::object();
  for (auto& [id, ring] : rings_) {
    json points = json::array();
    for (auto& s : ring) points.push_back(json::array({s.at_ms, s.memory, s.cpu}));
    all[id] = std::move(points);
  }
  return json{{"every_ms", every_ms}, {"instances", std::move(all)}};
}

} // namespace arbor::detail
