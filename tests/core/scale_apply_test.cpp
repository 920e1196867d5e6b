// The running instance count is the app supervisor's: `apply` asks it, so a
// config applied after `arbor scale` brings the count back to the config's.

#include <catch2/catch.hpp>

#include <memory>

#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

apply_report apply(harness& h, const group_spec& root) {
  apply_report out;
  h.self->request(h.tree->root(), caf::infinite, apply_atom::value,
                  std::make_shared<const group_spec>(root))
    .receive([&](apply_report& r) { out = std::move(r); },
             [](caf::error& e) { FAIL("apply: " << caf::to_string(e)); });
  return out;
}

uint32_t scale(harness& h, const std::string& app, uint32_t n) {
  uint32_t before = 0;
  h.self->request(h.tree->root(), caf::infinite, scale_atom::value, app, n)
    .receive([&](uint32_t b) { before = b; },
             [](caf::error& e) { FAIL("scale: " << caf::to_string(e)); });
  return before;
}

size_t running(harness& h, const std::string& app) {
  auto st = h.tree->status();
  REQUIRE(st);
  for (const auto& c : st->children)
    if (c.name == app) return c.instances.size();
  return 0;
}

} // namespace

TEST_CASE("apply after scale: the app is asked for its count and scaled back") {
  harness h{"[w]\nargs = " + child_args({"sleep"}) + "\n[v]\nargs = " + child_args({"sleep"})
            + "\n"};
  h.start();
  h.wait(event_kind::child_started, "w#0");
  h.wait(event_kind::child_started, "v#0");
  CHECK(scale(h, "w", 3) == 1);
  h.wait(event_kind::child_started, "w#2");
  CHECK(running(h, "w") == 3);

  auto r = apply(h, h.tree->spec().root);
  CHECK(r.scaled == std::vector<std::string>{"w"});
  CHECK(r.unchanged == std::vector<std::string>{"v"});
  CHECK(running(h, "w") == 1);

  r = apply(h, h.tree->spec().root);
  CHECK(r.scaled.empty());
  CHECK(r.unchanged == std::vector<std::string>{"w", "v"});
  CHECK(scale(h, "w", 1) == 1); // the same count: nothing to do
}
