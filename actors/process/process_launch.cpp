// What a run needs before it can be spawned: its plan (command resolved,
// environment built) and its output pipes into the log pump.

#include <cerrno>
#include <cstring>

#include "process_health.hpp"

#include "os/credentials.hpp"
#include "os/identity.hpp"

namespace arbor::detail {

namespace {

std::string find_path(const std::vector<std::string>& env) {
  for (auto& kv : env)
    if (kv.compare(0, 5, "PATH=") == 0) return kv.substr(5);
  return "/usr/local/bin:/usr/bin:/bin";
}

} // namespace

std::string build_plan(process_self self) {
  auto& s = self->state;
  const auto& spec = *s.spec;
  if (spec.argv.empty()) return "empty command";
  if (auto err = os::check_cwd(spec.cwd); !err.empty()) return err;
  // What differs between the app's instances; the rest is shared.
  std::vector<std::string> own{
    os::identity_entry({s.spawn_gen, s.spec_hash, spec.name, s.index, s.rt->home}),
    "ARBOR_INSTANCE=" + std::to_string(s.index)};
  if (s.links.port != 0) own.push_back("PORT=" + std::to_string(s.links.port));
  std::string err;
  auto notify = notify_socket(self, err);
  if (!err.empty()) return "ready = \"notify\": " + err;
  if (!notify.empty()) own.push_back("NOTIFY_SOCKET=" + notify);
  // Who it runs as and its limits, resolved once for every restart of this plan.
  auto creds = os::prepare_credentials(spec, err);
  if (!creds) return err;
  for (auto& kv : creds->env) own.push_back(std::move(kv));
  auto shared = s.rt->app_env(spec.name, spec.env);
  auto path = os::resolve_executable(spec.argv.front(), find_path(*shared), spec.cwd, err);
  if (path.empty()) return err;
  // The app's sockets: bound by the first of its runs to get here, the same
  // ones for every later run, replacement and instance.
  auto sockets = s.rt->listeners.acquire(spec.name, spec.listen, err);
  if (!err.empty()) return err;
  s.plan = std::make_shared<os::spawn_plan>(std::move(path), spec.argv, std::move(shared),
                                            std::move(own), spec.cwd, std::move(sockets),
                                            std::move(creds->creds));
  return {};
}

void open_logs(process_self self) {
  auto& s = self->state;
  if (!s.rt->pump || (s.out_fd >= 0 && s.err_fd >= 0)) return;
  std::string failed;
  for (auto [fd, which] : {std::pair{&s.out_fd, logs::stream::out},
                           std::pair{&s.err_fd, logs::stream::err}}) {
    if (*fd >= 0) continue;
    *fd = s.rt->pump->open_stream(s.spec->name, s.index, which);
    if (*fd < 0 && failed.empty()) failed = std::strerror(errno);
  }
  if (!failed.empty() && !s.log_error_reported) {
    s.log_error_reported = true;
    emit(self, event_kind::log_error, "cannot capture output: " + failed + " (output discarded)");
  }
}

} // namespace arbor::detail
