#include "event_bus.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "log.hpp"

namespace arbor::detail {

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string format_event(const event& e) {
  std::string s = "supervisor=" + (e.supervisor.empty() ? std::string{"root"} : e.supervisor)
                  + " event=" + to_string(e.what);
  if (!e.reason.empty()) s += " reason=\"" + e.reason + "\"";
  if (!e.offender.empty()) s += " offender=" + e.offender;
  if (e.pid > 0) s += " pid=" + std::to_string(e.pid);
  s += " state=";
  s += to_string(e.state);
  return s;
}

namespace {

log_level level_of(const event& e) {
  switch (e.what) {
    case event_kind::gave_up:
    case event_kind::spawn_failed:
    case event_kind::log_error: return log_level::error;
    case event_kind::child_exited:
      return e.reason == "exit(0)" ? log_level::info : log_level::warning;
    case event_kind::backoff:
    case event_kind::killed:
    case event_kind::keeper_lost:
    case event_kind::daemon_replaced: return log_level::warning;
    default: return log_level::info;
  }
}

struct bus_state {
  std::vector<caf::actor> subscribers;
};

bool add(caf::event_based_actor* self, bus_state& st, const caf::actor& who) {
  if (!who) return false;
  if (std::find(st.subscribers.begin(), st.subscribers.end(), who) == st.subscribers.end()) {
    self->monitor(who);
    st.subscribers.push_back(who);
  }
  return true;
}

} // namespace

caf::behavior event_bus(caf::event_based_actor* self, bool log) {
  auto st = std::make_shared<bus_state>();
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& v = st->subscribers;
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const caf::actor& a) { return a.address() == dm.source; }),
            v.end());
  });
  return {
    [=](event& e) {
      if (log) log_line(level_of(e), format_event(e));
      for (auto& s : st->subscribers) self->send(s, e);
    },
    [=](subscribe_atom) {
      return add(self, *st, caf::actor_cast<caf::actor>(self->current_sender()));
    },
    [=](subscribe_atom, caf::actor& who) { return add(self, *st, who); },
    [=](unsubscribe_atom) {
      auto who = caf::actor_cast<caf::actor>(self->current_sender());
      auto& v = st->subscribers;
      v.erase(std::remove(v.begin(), v.end(), who), v.end());
    },
  };
}

bool subscribe_before_start(caf::actor_system& sys, const caf::actor& bus,
                            const caf::actor& who) {
  bool ok = false;
  caf::scoped_actor self{sys};
  self->request(bus, std::chrono::seconds(2), subscribe_atom::value, who)
    .receive([&](bool b) { ok = b; }, [&](caf::error&) {});
  return ok;
}

} // namespace arbor::detail
