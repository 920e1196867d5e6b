// A process actor's status snapshot (`arbor status`, `tree`, `top`).

#include <algorithm>

#include "process_health.hpp"

#include "os/proc_read.hpp"

namespace arbor::detail {

using self_ptr = caf::stateful_actor<process_state>*;
using clock = std::chrono::steady_clock;

instance_status status_of(self_ptr self) {
  auto& s = self->state;
  instance_status x;
  x.id = s.id;
  x.index = s.index;
  x.state = s.phase();
  x.want_up = s.fsm.want_up;
  x.pid = s.pid;
  x.restarts = s.restarts;
  x.short_runs = s.tracker->short_runs();
  if (s.phase() == proc_state::backoff && s.backoff_due > clock::now())
    x.next_try_ms = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(s.backoff_due - clock::now()).count());
  x.started_at_ms = s.pid != 0 ? s.started_wall_ms : 0;
  if (s.pid != 0) {
    x.uptime_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - s.started).count();
    uid_t uid = 0;
    gid_t gid = 0;
    if (os::read_real_ids(s.pid, uid, gid)) {
      x.uid = uid;
      x.gid = gid;
    }
    if (s.rt->sampler) {
      // Fresh numbers (a few /proc reads of this tree at most once a
      // second): only apps with max_memory are sampled periodically.
      if (auto u = s.rt->sampler->sample_now(s.pid, std::chrono::seconds(1))) {
        x.memory_bytes = static_cast<int64_t>(u->rss_bytes);
        if (u->cpu_percent) x.cpu_percent = *u->cpu_percent;
        if (u->stopped)
          x.reason = std::string{os::stopped_by_signal_reason} + ": `arbor signal CONT " + s.id
                     + "` resumes it";
      }
    }
  }
  if (s.pid != 0 && s.rt->cgroups && !s.cg.empty()) {
    x.cgroup = s.cg.dir;
    x.processes = static_cast<int32_t>(s.rt->cgroups->procs(s.cg).size());
    // What the kernel charges the run, where a memory controller counts it.
    if (auto bytes = s.rt->cgroups->memory_bytes(s.cg); bytes >= 0) x.memory_bytes = bytes;
  }
  x.last_exit = s.last_exit;
  if (x.reason.empty()) x.reason = s.reason;
  x.port = s.links.port;
  x.health = s.health_detail;
  return x;
}

} // namespace arbor::detail
