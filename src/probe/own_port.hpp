#pragma once

// Readiness a sibling cannot answer. A check on a fixed port (no {port}) is
// answered by whichever process listens there: with SO_REUSEPORT that may be
// another instance of the app, or the old run a reload is replacing. Before
// an instance is ready, its check on such a port counts only once its own
// processes listen there too, read from the kernel's socket tables.

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "arbor/spec.hpp"
#include "os/port_holders.hpp"
#include "probe/probe.hpp"

namespace arbor::probe {

/// Whose processes count as "this instance": its run's process group (the
/// leader's pid) and anything carrying the run's ARBOR_ID generation (a
/// setsid child); other runs of `app` in `home` are its siblings.
struct port_owner {
  pid_t leader = 0;
  uint64_t generation = 0;
  std::string app;
  std::string home;
};

/// The fixed port a check targets and the instance that must listen there.
struct own_port_rule {
  std::string host; ///< as the check writes it ("127.0.0.1", "::1", "localhost")
  uint16_t port = 0;
  port_owner owner;
};

/// Who listens on the port, as far as the rule is concerned.
enum class port_verdict : uint8_t {
  mine,     ///< a process of this instance holds a listening socket there
  siblings, ///< only other runs of the app do: their answer says nothing of this one
  others,   ///< nobody of the app (or nobody at all): the check decides alone
};

/// Classifies the holders of the port's listening sockets; `who` names the
/// first sibling ("web#1 (pid 4242)") for a `siblings` verdict.
port_verdict classify(const std::vector<os::socket_holder>& holders, const port_owner& owner,
                      std::string* who = nullptr);

/// The check of `spec` for an instance that is not ready yet: fails with
/// "not listening yet: ..." without probing while only siblings listen on
/// the rule's port, else runs the check (a pass by this instance's own
/// socket says so in its detail).
probe_result check_own_port(const health_check_spec& spec, uint16_t port, uint32_t instance,
                            const own_port_rule& rule);

} // namespace arbor::probe
