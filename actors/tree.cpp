#include "arbor/tree.hpp"

#include <chrono>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

#include "config/validate.hpp"
#include "event_bus.hpp"
#include "internal_messages.hpp"
#include "log.hpp"
#include "group/group_supervisor.hpp"
#include "os/spawn.hpp"
#include "os/listen_reclaim.hpp"
#include "os/orphans.hpp"
#include "runtime.hpp"
#include "os/paths.hpp"

namespace arbor {

struct supervision_tree::impl {
  caf::actor_system& sys;
  tree_spec spec;
  detail::runtime_ptr rt;
  caf::actor root;
  bool started = false;
  bool stopped = false;

  impl(caf::actor_system& s, tree_spec t) : sys(s), spec(std::move(t)) {
  }
};

namespace {

/// The spec in start order; throws std::invalid_argument with every broken
/// rule, one per line, as the config loader words them.
tree_spec validated(tree_spec spec) {
  auto errors = config::validate(spec);
  if (!errors.empty()) throw std::invalid_argument(config::to_string(errors));
  return spec;
}

using socket_names = std::set<std::pair<std::string, std::string>>;

/// Every (app, canonical address) the apps of `g` and its groups listen on.
void named_sockets(const group_spec& g, socket_names& out) {
  for (const auto& c : g.children) {
    if (c.type == node_spec::kind::group) {
      named_sockets(c.group, out);
      continue;
    }
    for (const auto& l : c.app.listen) {
      std::string err;
      if (auto a = os::parse_listen_address(l.address, err)) out.emplace(c.app.name, a->canonical());
    }
  }
}

/// The sockets a previous daemon left: the keeper's (handed back at hello)
/// are kept for what the config still names, the rest close. Those no keeper
/// handed back (it was killed with the daemon) that live runs, adopted next,
/// still hold are taken from them (pidfd_getfd) rather than bound again,
/// which would fail with EADDRINUSE.
void take_over_sockets(detail::runtime& rt, const group_spec& root) {
  socket_names named;
  named_sockets(root, named);
  rt.listeners.drop_unnamed([&](const std::string& app, const std::string& address) {
    return named.count({app, address}) > 0;
  });
  for (auto i = named.begin(); i != named.end();)
    i = rt.listeners.has(i->first, i->second) ? named.erase(i) : std::next(i);
  for (auto& [app, sock] : os::reclaim_listen_sockets(rt.home, std::move(named))) {
    detail::log_info("supervisor=root event=listen reason=\"{} of {} taken back from a live run\"",
             sock->address(), app);
    rt.listeners.adopt(app, std::move(sock), true);
  }
}

/// Each run in a cgroup of its own where the host allows it
/// (ARBOR_CONTAINMENT: auto, cgroup, process-group); said once either way.
void open_containment(detail::runtime& rt) {
  os::containment_wish wish{};
  const char* asked = std::getenv("ARBOR_CONTAINMENT");
  if (!os::parse_containment(asked, wish))
    throw std::invalid_argument(std::string{"ARBOR_CONTAINMENT='"} + asked
                                + "': expected auto, cgroup or process-group");
  rt.cgroups = os::cgroup_tree::open(rt.home, wish, rt.containment_note);
  if (rt.cgroups)
    detail::log_info("supervisor=root event=containment reason=\"each run in a cgroup of its "
                     "own under {}\"", rt.cgroups->root());
  else if (!rt.containment_note.empty())
    detail::log_warn("supervisor=root event=containment reason=\"process groups, not cgroups: {}; "
                     "a process that leaves its group (setsid) escapes a stop, and limits "
                     "(memory_max, cpu_max, cpu_weight, pids_max) cannot be applied\"",
                     rt.containment_note);
  else
    rt.containment_note = "ARBOR_CONTAINMENT=process-group";
}

} // namespace

supervision_tree::supervision_tree(caf::actor_system& sys, tree_spec spec, tree_options opts)
  : impl_(std::make_unique<impl>(sys, validated(std::move(spec)))) {
  if (!opts.log_dir.empty()) {
    std::error_code ec;
    os::make_dirs(opts.log_dir, ec);
    if (ec) throw std::system_error(ec, "cannot create log directory " + opts.log_dir);
  }
  auto rt = std::make_shared<detail::runtime>();
  rt->log_dir = opts.log_dir;
  rt->runtime_dir = opts.runtime_dir;
  if (!opts.log_dir.empty()) {
    rt->pump = std::make_unique<logs::log_pump>();
    if (opts.echo_output) rt->pump->set_echo(STDOUT_FILENO, STDERR_FILENO, opts.echo_color);
  }
  os::exit_watcher* watcher = &rt->watcher;
  detail::memory_registry* memory = &rt->memory;
  // Periodic passes only for the apps with max_memory (none: the sampler
  // thread sleeps); `arbor status` samples every other tree on demand.
  rt->sampler = std::make_unique<os::sampler>(
    [memory] { return memory->pids(); }, opts.sample_interval,
    [memory](const std::vector<std::pair<pid_t, os::usage>>& xs) {
      // On the sampler thread: hand each watched tree's RSS to its app.
      for (auto& [pid, u] : xs)
        if (u.processes > 0)
          if (auto e = memory->find(pid))
            caf::anon_send(e->app, detail::memory_sample{e->index, pid, u.rss_bytes});
    },
    [watcher] { return watcher->pids(); });
  rt->memory.on_first([s = rt->sampler.get()] { s->poke(); });
  rt->base_env = os::current_environment();
  rt->home = opts.state_dir;
  rt->raise_generation(static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count()));
  rt->bus = sys.spawn(detail::event_bus, opts.log_events);
  if (!opts.state_dir.empty()) {
    auto keeper = opts.keeper_binary;
    if (keeper.empty()) keeper = os::beside_exe("arbor-keeper");
    // What our apps orphan (double forks) is ours to reap, not init's.
    if (os::become_subreaper()) rt->watcher.reap_adopted_orphans();
    open_containment(*rt);
    rt->survival = std::make_unique<detail::crash_survival>(opts.state_dir);
    rt->raise_generation(
      rt->survival->recover(impl_->spec, rt->pump.get(), rt->log_dir, rt->cgroups.get()));
    if (rt->pump) {
      rt->keeper = std::make_unique<detail::keeper_link>(opts.state_dir, keeper,
                                                         opts.daemon_command, rt->bus);
      rt->keeper->start(*rt->pump, rt->listeners);
    }
    take_over_sockets(*rt, impl_->spec.root);
  }
  impl_->rt = rt;
  impl_->root = sys.spawn(detail::group_supervisor,
                          std::make_shared<const group_spec>(impl_->spec.root), caf::actor{},
                          rt);
}

supervision_tree::~supervision_tree() {
  if (impl_->started && !impl_->stopped) stop(std::chrono::minutes(5));
  caf::anon_send_exit(impl_->root, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->rt->bus, caf::exit_reason::user_shutdown);
}

void supervision_tree::start() {
  impl_->started = true;
  impl_->stopped = false;
  if (impl_->rt->keeper) impl_->rt->keeper->announce(); // before the adoptions' events
  caf::anon_send(impl_->root, start_atom::value);
}

bool supervision_tree::stop(std::chrono::milliseconds timeout) {
  caf::scoped_actor self{impl_->sys};
  bool ok = false;
  self->request(impl_->root, timeout, stop_atom::value)
    .receive([&](bool) { ok = true; }, [&](caf::error&) { ok = false; });
  if (ok) {
    impl_->stopped = true;
    if (impl_->rt->survival) impl_->rt->survival->close_clean();
    if (impl_->rt->keeper) impl_->rt->keeper->close_clean();
    if (impl_->rt->cgroups) impl_->rt->cgroups->close_clean();
  }
  return ok;
}

caf::expected<node_status> supervision_tree::status(std::chrono::milliseconds timeout) {
  caf::scoped_actor self{impl_->sys};
  caf::expected<node_status> out{caf::sec::request_timeout};
  self->request(impl_->root, timeout, status_atom::value)
    .receive([&](node_status& x) { out = std::move(x); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

caf::actor supervision_tree::root() const {
  return impl_->root;
}

caf::actor supervision_tree::events() const {
  return impl_->rt->bus;
}

const tree_spec& supervision_tree::spec() const {
  return impl_->spec;
}

std::pair<std::string, std::string> supervision_tree::log_files(const std::string& app) const {
  if (!impl_->rt->pump) return {};
  return logs::log_pump::paths(impl_->rt->log_dir, app);
}

log_stats supervision_tree::logs_of(const std::string& app) const {
  if (!impl_->rt->pump) return {};
  auto s = impl_->rt->pump->stats(app);
  return log_stats{s.bytes_written, s.bytes_dropped, s.rotations, s.last_error};
}

void supervision_tree::set_daemon_command(std::vector<std::string> argv) {
  if (impl_->rt->keeper) impl_->rt->keeper->set_command(std::move(argv));
}

bool supervision_tree::flush_logs(const std::string& app) {
  return impl_->rt->pump && impl_->rt->pump->flush(app);
}

} // namespace arbor
