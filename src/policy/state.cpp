#include "arbor/state.hpp"

namespace arbor {

const char* to_string(proc_state s) {
  switch (s) {
    case proc_state::stopped: return "stopped";
    case proc_state::starting: return "starting";
    case proc_state::running: return "running";
    case proc_state::ready: return "ready";
    case proc_state::stopping: return "stopping";
    case proc_state::backoff: return "backoff";
    case proc_state::failed: return "failed";
  }
  return "unknown";
}

} // namespace arbor
