#pragma once

// How an app's instances become ready, in words for `arbor check` and
// `arbor show`, and where that rule cannot tell instances apart. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arbor/spec.hpp"

namespace arbor::config {

/// The host and port an HTTP or TCP check targets when they are the same for
/// every instance (no {port} in it).
struct fixed_port {
  std::string host; ///< without brackets: "127.0.0.1", "::1", "localhost"
  uint16_t port = 0;
};

/// The check's fixed port; nullopt for exec checks, no check, a {port}
/// placeholder or a target that does not parse.
std::optional<fixed_port> fixed_port_of(const health_check_spec& h);

/// "health check http://127.0.0.1:8000/health passes and this instance
/// listens on 127.0.0.1:8000", "READY=1 from the app (sd_notify)",
/// "immediately", "per-instance port {port}: ..." and so on.
std::string ready_rule(const app_spec& a);

/// Where the app's readiness check cannot tell its instances apart, or
/// holds one instance back for good; one line each, without the app's name.
std::vector<std::string> ready_warnings(const app_spec& a);

} // namespace arbor::config
