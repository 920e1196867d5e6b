// Watch mode: a change under an app's `watch` paths restarts it, by a rolling
// reload where it has readiness (a replacement is ready before the old run
// goes), else by a rolling restart. The watcher thread (os::file_watch)
// debounces; the app only hears of a change once it has settled.

#include "app_supervisor.hpp"

#include "config/app_fields.hpp"
#include "internal_messages.hpp"
#include "log.hpp"
#include "process/process_health.hpp"

namespace arbor::detail {

void start_watching(app_self self) {
  auto& s = self->state;
  if (s.spec->watch.empty()) return;
  auto ignore = config::default_watch_ignore();
  ignore.insert(ignore.end(), s.spec->watch_ignore.begin(), s.spec->watch_ignore.end());
  caf::actor me = caf::actor_cast<caf::actor>(self);
  std::string error;
  auto& files = s.rt->files();
  const uint64_t id = files.add(
    s.spec->watch, std::move(ignore), s.spec->watch_debounce,
    [me](const std::string& path) { caf::anon_send(me, watch_atom::value, path); }, error);
  if (id == 0) {
    app_event(self, event_kind::log_error, "watch: " + error);
    return log_warn("supervisor={} event=watch_failed reason=\"{}\"", s.spec->name, error);
  }
  self->attach_functor([rt = s.rt, id] { rt->files().remove(id); });
}

void on_file_changed(app_self self, const std::string& path) {
  auto& s = self->state;
  if (!s.want_up || s.waiting) return; // nothing runs that the change could be for
  const std::string why = "watch: " + path + " changed";
  app_event(self, event_kind::file_changed, why);
  if (ready_mode_of(*s.spec) != ready_mode::uptime) {
    caf::anon_send(self, reload_atom::value, s.spec->name, reason{restart_cause::watch, why});
    return;
  }
  std::vector<size_t> all(s.instances.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  roll(self, std::move(all), {restart_cause::watch, why});
}

} // namespace arbor::detail
