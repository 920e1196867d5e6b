// embed_demo: a service that runs arbor inside its own CAF actor system.
//
// It supervises two worker processes built in code: "crasher" (works 0.2 s,
// then exits 3; restarted on failure) and "sleeper" (a long runner). An actor
// of the service's own subscribes to the tree's events, logs them and counts
// the crasher's crashes; on the first crash it scales the sleeper to 2
// instances by message. After `crash_limit` crashes it stops the crasher by
// message, prints the tree's status and tells main, which stops the tree and
// exits 0 with "embed_demo: saw N crashes". Exits 1 if that takes longer than
// `deadline`.
//
// arbor's own log lines (its events, warnings, errors) go through the
// service's spdlog logger, handed over with arbor::set_logger: to stdout,
// prefixed "embed_demo[arbor]".
//
// Usage: embed_demo [config.toml]   (a config file replaces the built-in
// workers; one with errors prints every file:line:col and exits 2)

#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <arbor/arbor.hpp>
#include <arbor/spdlog.hpp>

namespace {

using namespace std::chrono_literals;

using ready_atom = caf::atom_constant<caf::atom("ready")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

constexpr uint32_t crash_limit = 3;
constexpr auto deadline = 30s;

/// The service's own config: arbor's types registered on it, CAF's sharing
/// scheduler (far less idle CPU than work stealing).
struct service_config : caf::actor_system_config {
  service_config() {
    set("scheduler.policy", caf::atom("sharing"));
    set("scheduler.max-threads", size_t{2});
    arbor::add_message_types(*this);
  }
};

arbor::node_spec app_node(arbor::app_spec app) {
  arbor::node_spec n;
  n.type = arbor::node_spec::kind::app;
  n.app = std::move(app);
  return n;
}

/// Two workers, specified in code instead of a TOML file.
arbor::tree_spec make_tree() {
  arbor::app_spec crasher;
  crasher.name = "crasher";
  crasher.command = "echo working; sleep 0.2; exit 3";
  crasher.shell = true;
  crasher.argv = {"/bin/sh", "-c", crasher.command};
  crasher.restart = arbor::restart_policy::on_failure;
  crasher.backoff_base = 50ms; // crash loop: 50, 100, 200 ms ...

  arbor::app_spec sleeper;
  sleeper.name = "sleeper";
  sleeper.command = "sleep 600";
  sleeper.argv = {"sleep", "600"}; // found on PATH
  sleeper.kill_timeout = 2s;

  arbor::tree_spec t;
  t.root.strategy = arbor::strategy_kind::one_for_one;
  t.root.children.push_back(app_node(std::move(crasher)));
  t.root.children.push_back(app_node(std::move(sleeper)));
  return t;
}

std::string describe(const arbor::event& e) {
  std::string s = std::string{"event="} + to_string(e.what)
                  + " supervisor=" + (e.supervisor.empty() ? "root" : e.supervisor);
  if (!e.offender.empty()) s += " offender=" + e.offender;
  if (!e.reason.empty()) s += " reason=\"" + e.reason + "\"";
  if (e.pid > 0) s += " pid=" + std::to_string(e.pid);
  s += " state=";
  s += arbor::to_string(e.state);
  return s;
}

void print_status(caf::actor_ostream out, const arbor::node_status& n) {
  for (auto& child : n.children) {
    if (child.is_group) {
      print_status(out, child);
      continue;
    }
    out << "embed_demo: status " << child.name << " state=" << child.state
        << " instances=" << child.instances.size();
    for (auto& i : child.instances)
      out << " [" << i.id << " " << arbor::to_string(i.state) << " restarts=" << i.restarts
          << "]";
    out << std::endl;
  }
}

struct crash_watch_state {
  static inline const char* name = "crash_watch";
  uint32_t crashes = 0;
  bool finishing = false;
};

/// The service's actor: follows the tree through its typed handles.
caf::behavior crash_watch(caf::stateful_actor<crash_watch_state>* self,
                          arbor::event_bus_actor events, arbor::root_actor root,
                          caf::actor owner) {
  auto fail = [=](const std::string& what, const caf::error& err) {
    caf::aout(self) << "embed_demo: " << what << ": " << self->system().render(err)
                    << std::endl;
  };
  self->request(events, 5s, arbor::subscribe_atom::value)
    .then(
      [=](bool ok) {
        if (!ok) caf::aout(self) << "embed_demo: subscribe refused" << std::endl;
        self->send(owner, ready_atom::value, ok);
      },
      [=](caf::error& err) {
        fail("subscribe failed", err);
        self->send(owner, ready_atom::value, false);
      });
  return {
    [=](const arbor::event& e) {
      caf::aout(self) << "embed_demo: " << describe(e) << std::endl;
      auto& st = self->state;
      if (e.what != arbor::event_kind::child_exited || e.offender.rfind("crasher#", 0) != 0
          || st.finishing)
        return;
      ++st.crashes;
      caf::aout(self) << "embed_demo: crash " << st.crashes << " of " << e.offender << " ("
                      << e.reason << ")" << std::endl;
      if (st.crashes == 1) {
        // Start/stop/restart/scale are messages to the root, checked at compile time.
        self->request(root, 5s, arbor::scale_atom::value, std::string{"sleeper"}, uint32_t{2})
          .then(
            [=](uint32_t before) {
              caf::aout(self) << "embed_demo: scaled sleeper from " << before << " to 2"
                              << std::endl;
            },
            [=](caf::error& err) { fail("scale failed", err); });
      }
      if (st.crashes < crash_limit) return;
      st.finishing = true;
      self
        ->request(root, 10s, arbor::stop_atom::value, std::string{"crasher"},
                  arbor::manual("embed_demo: enough crashes"))
        .then(
          [=](const std::vector<std::string>& ids) {
            caf::aout(self) << "embed_demo: stopped " << ids.size() << " crasher instance(s)"
                            << std::endl;
            self->request(root, 10s, arbor::status_atom::value)
              .then(
                [=](const arbor::node_status& tree) {
                  print_status(caf::aout(self), tree);
                  self->send(owner, done_atom::value, self->state.crashes);
                },
                [=](caf::error& err) {
                  fail("status failed", err);
                  self->send(owner, done_atom::value, self->state.crashes);
                });
          },
          [=](caf::error& err) {
            fail("stop failed", err);
            self->send(owner, done_atom::value, self->state.crashes);
          });
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  // The service's logger; arbor writes its lines through it from now on.
  auto log = std::make_shared<spdlog::logger>(
    "embed_demo", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  log->set_pattern("embed_demo[arbor] %l %v");
  arbor::set_logger(log);
  service_config cfg;
  caf::actor_system sys{cfg};
  arbor::tree_spec spec;
  if (argc > 1) {
    // The same workers from a TOML file instead (it must define "crasher").
    auto loaded = arbor::load_config(argv[1]);
    if (!loaded) {
      std::cerr << "embed_demo: " << arbor::diagnostics(loaded.error()).size()
                << " problem(s) in " << argv[1] << "\n"
                << sys.render(loaded.error()) << std::endl;
      return 2;
    }
    spec = std::move(*loaded);
  } else {
    spec = make_tree();
  }
  caf::scoped_actor self{sys};
  int rc = 0;
  try {
    arbor::tree_options opts;
    opts.log_events = true; // every event also as a line through the logger
    arbor::supervision_tree tree{sys, std::move(spec), opts}; // throws std::system_error
    auto watch = sys.spawn(crash_watch, arbor::events_of(tree), arbor::root_of(tree),
                           caf::actor{self});
    bool subscribed = false;
    self->receive([&](ready_atom, bool ok) { subscribed = ok; },
                  caf::after(std::chrono::seconds(5)) >> [] {});
    uint32_t crashes = 0;
    if (subscribed) {
      tree.start(); // after subscribing: no event is missed
      self->receive([&](done_atom, uint32_t n) { crashes = n; },
                    caf::after(deadline) >> [] {});
    }
    if (!tree.stop(20s)) {
      std::cout << "embed_demo: stopping the tree timed out" << std::endl;
      rc = 1;
    }
    self->send_exit(watch, caf::exit_reason::user_shutdown);
    if (crashes < crash_limit) {
      std::cout << "embed_demo: gave up after " << crashes << " crashes (want " << crash_limit
                << ")" << std::endl;
      rc = 1;
    } else {
      std::cout << "embed_demo: saw " << crashes << " crashes" << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "embed_demo: cannot build the tree: " << e.what() << std::endl;
    rc = 1;
  }
  return rc;
}
