// The restart path of one instance under CAF's deterministic scheduler: the
// process actor decides and spawns the replacement in its own exit handler,
// then tells its group; under a group that limits intensity it waits for
// the group's word first.

#include <catch2/catch.hpp>

#include <csignal>
#include <memory>
#include <vector>

#include "deterministic.hpp"
#include "harness.hpp"
#include "os/spawn.hpp"
#include "process/process_actor.hpp"

using namespace arbor;
using namespace arbor::detail;
using arbor::test::fixture;
using arbor::test::killed;
using arbor::test::wait_gone;
using namespace std::chrono_literals;

namespace {

using promises = std::vector<caf::typed_response_promise<bool>>;
/// (answer_atom, ok): the held group gives its held answers (from its own
/// thread of control: a promise is delivered by the actor that made it).
using answer_atom = caf::atom_constant<caf::atom("answer")>;

/// A group that records the restart events it is told and holds its answers
/// until the test gives them.
struct held_group {
  std::shared_ptr<std::vector<child_event>> told = std::make_shared<std::vector<child_event>>();
  std::shared_ptr<promises> answers = std::make_shared<promises>();
  caf::actor handle;

  /// Held answers keep the group actor alive (a promise references it):
  /// drop them so the actor system can shut down.
  ~held_group() { answers->clear(); }

  explicit held_group(caf::actor_system& sys) {
    handle = sys.spawn(
      [](caf::event_based_actor* self, std::shared_ptr<std::vector<child_event>> told,
         std::shared_ptr<promises> answers) -> caf::behavior {
        return {[=](child_event& e) -> caf::result<bool> {
          told->push_back(e);
          auto rp = self->make_response_promise<bool>();
          answers->push_back(rp);
          return rp;
        },
        [=](answer_atom, bool ok) {
          for (auto& rp : *answers) rp.deliver(ok);
          answers->clear();
        }};
      },
      told, answers);
  }
};

/// An app whose runs are stable at once (min_uptime 0): a crash restarts now.
std::shared_ptr<const app_spec> stable_sleeper() {
  auto spec = std::make_shared<app_spec>();
  spec->name = "s";
  spec->argv = {ARBOR_TEST_CHILD, "sleep"};
  spec->min_uptime = 0ms;
  return spec;
}

/// A running instance of stable_sleeper under `group`.
caf::actor running(fixture& f, const caf::actor& group, bool counts_first) {
  instance_links links;
  links.app = f.parent;
  links.group = group;
  links.group_counts_first = counts_first;
  auto p = f.sys.spawn(process_actor, stable_sleeper(), 0u, links, f.rt);
  f.drain();
  caf::anon_send(p, start_atom::value);
  f.drain();
  REQUIRE(f.state_of<process_state>(p).phase() == proc_state::running);
  return p;
}

std::vector<std::string> whats(const fixture& f) {
  std::vector<std::string> out;
  for (auto& e : *f.events) out.push_back(to_string(e.what));
  return out;
}

/// Ends the actor (its state kills its run's group) and the runs the test
/// pretended had ended (pids taken before: the actor's state goes with it).
void finish(fixture& f, const caf::actor& p, std::vector<int32_t> pids) {
  caf::anon_send_exit(p, caf::exit_reason::kill);
  f.drain();
  for (auto pid : pids) {
    if (pid <= 0) continue;
    os::signal_group(pid, SIGKILL);
    CHECK(arbor::test::wait_gone(pid));
  }
}

} // namespace

TEST_CASE("process_actor: a crash is restarted in the exit handler, then the group is told") {
  fixture f;
  held_group group{f.sys};
  auto p = running(f, group.handle, false);
  auto& st = f.state_of<process_state>(p);
  auto first = st.pid;
  caf::anon_send(p, killed(first));
  REQUIRE(f.sched.try_run_once()); // the exit handler alone: nobody else has run
  CHECK(st.phase() == proc_state::running);
  CHECK(st.pid != 0);
  CHECK(st.pid != first);
  CHECK(st.restarts == 1);
  CHECK(group.told->empty()); // told, but it has not run yet
  f.drain();
  REQUIRE(group.told->size() == 1);
  CHECK((*group.told)[0].child == "s");
  CHECK_FALSE((*group.told)[0].gave_up);
  CHECK((*group.told)[0].reason == "s#0 signal(SIGKILL)");
  // It did not wait for the group's answer (the group sets no limit).
  CHECK(whats(f) == std::vector<std::string>{"child_started", "child_exited", "restarting",
                                             "child_started"});
  auto second = st.pid;
  finish(f, p, {first, second});
}

TEST_CASE("process_actor: under a group that limits intensity, a restart waits for its word") {
  fixture f;
  held_group group{f.sys};
  auto p = running(f, group.handle, true);
  auto& st = f.state_of<process_state>(p);
  auto first = st.pid;
  caf::anon_send(p, killed(first));
  f.drain();
  CHECK(st.phase() == proc_state::backoff);
  CHECK(st.pid == 0);
  REQUIRE(group.answers->size() == 1);
  SECTION("the group allows it: the replacement starts") {
    caf::anon_send(group.handle, answer_atom::value, true);
    f.drain();
    CHECK(st.phase() == proc_state::running);
    CHECK(st.pid != 0);
    CHECK(st.restarts == 1);
  }
  SECTION("the group gives up: the instance stays down") {
    caf::anon_send(group.handle, answer_atom::value, false);
    f.drain();
    CHECK(st.phase() == proc_state::stopped);
    CHECK(st.pid == 0);
    CHECK(st.restarts == 0);
  }
  auto second = st.pid;
  finish(f, p, {first, second});
}

TEST_CASE("process_actor: a give-up is the group's to hear, and the instance fails") {
  fixture f;
  held_group group{f.sys};
  auto spec = std::make_shared<app_spec>(*stable_sleeper());
  spec->restart = restart_policy::always;
  spec->min_uptime = 1h; // every run is short
  spec->max_restarts = 0; // the first short run gives up
  instance_links links;
  links.app = f.parent;
  links.group = group.handle;
  auto p = f.sys.spawn(process_actor, std::shared_ptr<const app_spec>(spec), 0u, links, f.rt);
  f.drain();
  caf::anon_send(p, start_atom::value);
  f.drain();
  auto& st = f.state_of<process_state>(p);
  auto first = st.pid;
  caf::anon_send(p, killed(first));
  f.drain();
  CHECK(st.phase() == proc_state::failed);
  CHECK_FALSE(st.fsm.want_up);
  REQUIRE(group.told->size() == 1);
  CHECK((*group.told)[0].gave_up);
  CHECK(f.count(event_kind::gave_up) == 1);
  finish(f, p, {first});
}
