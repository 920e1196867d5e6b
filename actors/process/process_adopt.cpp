// A process actor's journal record, and taking over the run a crashed
// daemon left behind.

#include "process_health.hpp"

#include "common.hpp"
#include "event_bus.hpp"
#include "internal_messages.hpp"
#include "journal/journal.hpp"

namespace arbor::detail {

namespace {

using clock = std::chrono::steady_clock;

journal::instance_record record_of(const process_state& s) {
  journal::instance_record r;
  r.app = s.spec->name;
  r.index = s.index;
  r.pid = s.pid;
  r.start_time = s.pid == s.start_time_pid ? s.start_time : 0;
  r.started_unix_ms = s.pid != 0 ? s.started_wall_ms : 0;
  r.restarts = s.restarts;
  r.state = to_string(s.phase());
  r.want_up = s.fsm.want_up;
  r.ready = s.ready;
  r.last_exit = s.last_exit;
  return r;
}

} // namespace

void write_journal(process_self self) {
  auto& s = self->state;
  if (!s.rt->survival) return;
  if (s.pid != 0 && s.start_time_pid != s.pid) {
    s.start_time = journal::proc_start_time(s.pid).value_or(0);
    s.start_time_pid = s.pid;
  }
  s.rt->survival->put(record_of(s));
}

bool try_adopt(process_self self) {
  auto& s = self->state;
  if (!s.rt->survival) return false;
  auto rec = s.rt->survival->take(s.id);
  if (!rec) return false;
  s.restarts = rec->restarts;
  s.last_exit = rec->last_exit;
  bool alive = rec->pid > 0 && journal::same_process(rec->pid, rec->start_time);
  if (!alive && !rec->want_up) {
    // Stopped by hand before the daemon went: it stays stopped (the
    // machine starts in the phase the journal recorded).
    s.fsm.want_up = false;
    s.fsm.phase = rec->state == "failed" ? proc_state::failed : proc_state::stopped;
    s.reason = "kept " + rec->state + " across a daemon restart";
    write_journal(self);
    return true;
  }
  if (!alive) return false; // died meanwhile: start it (counters carried)
  auto me = caf::actor_cast<caf::actor>(self);
  auto now_ms = wall_now_ns() / 1000000;
  auto up = std::chrono::milliseconds{std::max<int64_t>(0, now_ms - rec->started_unix_ms)};
  auto ec = s.rt->watcher.adopt(
    rec->pid, [me](const os::exit_record& r) { caf::anon_send(me, make_exit_msg(r)); });
  if (ec) return false;
  if (s.spec->max_memory > 0) s.rt->memory.set(0, rec->pid, s.links.app, s.index);
  s.pid = rec->pid;
  s.start_time = rec->start_time;
  s.start_time_pid = rec->pid;
  s.started = clock::now() - up;
  s.started_wall_ms = rec->started_unix_ms;
  s.adopted = true;
  s.reason.clear();
  fsm_step(self, instance_event::adopted,
           "still running after a daemon restart (up " + std::to_string(up.count() / 1000) + "s)");
  return true;
}

} // namespace arbor::detail
