// `apply` of a changed spec to a running app with readiness: a rolling
// reload puts each instance on the new spec, its replacement ready before
// the old run stops. The group's reconciliation asks first
// (actors/group/group_reconcile.cpp) and stops and starts the app anew when
// the answer is no.

#include "app_supervisor.hpp"

#include <algorithm>

#include "arbor/messages.hpp"
#include "config/apply_plan.hpp"
#include "process/process_actor.hpp"

namespace arbor::detail {

namespace {

/// "command, env" — what changed, for the replacements' reason.
std::string changed_text(const app_spec& a, const app_spec& b) {
  std::string out;
  for (auto key : config::apply_keys(a, b))
    if (key != "instances") out += (out.empty() ? "" : ", ") + std::string{key};
  return out;
}

/// Stops `which` and starts each anew on the app's current spec: new
/// process actors, so every restart after this one runs that spec too.
void renew(app_self self, std::vector<size_t> which, std::function<void()> done) {
  if (which.empty()) return done();
  reason why{restart_cause::manual, "apply: the reload was aborted; started on the new config"};
  stop_some(self, which, {restart_cause::none, why.text}, [self, which, why, done] {
    auto& s = self->state;
    for (auto i : which) {
      if (i >= s.instances.size()) continue;
      self->demonitor(s.instances[i]);
      self->send_exit(s.instances[i], caf::exit_reason::user_shutdown);
      s.ports[i] = home_port(s, i);
      s.ready[i] = false;
      s.instances[i] = self->spawn<caf::monitored>(process_actor, s.spec, static_cast<uint32_t>(i),
                                                   links_for(self, s.ports[i], false), s.rt);
    }
    if (!s.want_up) return done();
    start_when_ready(self, which, why, done);
  });
}

} // namespace

caf::result<bool> respec(app_self self, std::shared_ptr<const app_spec> next) {
  auto& s = self->state;
  if (!s.want_up || s.waiting || s.reload || s.instances.empty()) return false;
  if (!config::reloads_on_apply(*s.spec, *next)) return false;
  auto what = changed_text(*s.spec, *next);
  s.spec = std::move(next);
  s.memory.clear();
  if (s.spec->max_memory > 0) s.memory.assign(s.instances.size(), memory_watch{s.spec->max_memory});
  std::vector<size_t> all(s.instances.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  auto rp = self->make_response_promise<bool>();
  begin_reload(self, all, {restart_cause::manual, "apply: " + what + " changed"},
               [self, rp](std::vector<std::string> done, std::string aborted) mutable {
                 if (aborted.empty()) {
                   rp.deliver(true);
                   return;
                 }
                 // The file is the truth: what still runs the old spec
                 // starts on the new one, as a stop and start would.
                 auto& s = self->state;
                 std::vector<size_t> stale;
                 for (size_t i = 0; i < s.instances.size(); ++i)
                   if (std::find(done.begin(), done.end(), s.spec->name + "#" + std::to_string(i))
                       == done.end())
                     stale.push_back(i);
                 renew(self, std::move(stale), [rp]() mutable { rp.deliver(true); });
               });
  return rp;
}

} // namespace arbor::detail
