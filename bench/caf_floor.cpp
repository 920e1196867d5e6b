// The floor of the daemon's RSS: a bare CAF 0.17 actor system set up as the
// daemon sets its own (sharing scheduler, 2 threads), one actor, one request
// answered, one line through fmt (as the daemon logs), then idle. bench/rss_floor.sh reads its /proc
// figures next to arbor-daemon's.

#include <caf/all.hpp>
#include <fmt/core.h>

#include <unistd.h>

int main() {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  auto echo = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](int x) { return x; }};
  });
  caf::scoped_actor self{sys};
  self->request(echo, caf::infinite, 1).receive([](int) {}, [](caf::error&) {});
  fmt::print(stderr, "caf-floor: up\n");
  ::pause(); // until SIGTERM
}
