#pragma once

// Small things every actor of the tree does the same way.

#include <string>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace arbor::detail {

/// Logs and drops unexpected messages (CAF's default prints to stdout).
inline void log_unexpected(caf::scheduled_actor* self, std::string who) {
  self->set_default_handler(
    [who](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      spdlog::warn("supervisor={} event=unexpected_message reason=\"{}\"", who,
                   caf::deep_to_string(x.copy_content_to_message()));
      return caf::sec::unexpected_message;
    });
}

} // namespace arbor::detail
