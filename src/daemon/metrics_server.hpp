#pragma once

// `[metrics]`: serves GET /metrics in the Prometheus text format on its own
// HTTP thread. Per-instance gauges come from the tree's status, restart
// counters from an actor subscribed to the tree's event bus. Supervision never
// waits on a scrape: the HTTP thread only asks, with timeouts.

#include <cstdint>
#include <memory>

#include <caf/all.hpp>

#include "arbor/spec.hpp"
#include "arbor/tree.hpp"

namespace arbor::detail {

class metrics_server {
public:
  /// Subscribes the restart counter to `tree`'s events (waits up to 2 s for
  /// the bus to confirm, so restarts after tree.start() are all counted),
  /// binds `spec.listen` and starts serving. Never throws: a bad address or a
  /// failed bind is logged (arbor/spdlog.hpp, error) and nothing is served; the caller
  /// carries on. `tree` must outlive this object.
  metrics_server(caf::actor_system& sys, supervision_tree& tree, const metrics_spec& spec);
  /// Stops serving (an in-flight scrape finishes: at most its timeouts, ~3 s),
  /// joins the HTTP thread, terminates the counter actor.
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// True when the endpoint is bound and served.
  bool serving() const;
  /// The bound port (the one the kernel chose for port 0); 0 if not serving.
  uint16_t port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::detail
