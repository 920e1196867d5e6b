// descriptors_needed() and fd_refusal(): what a tree costs the daemon in
// descriptors, and the refusal of a tree its limit cannot hold.

#include <catch2/catch.hpp>

#include "config/fd_budget.hpp"

namespace {

using namespace arbor;

node_spec app(const std::string& name, uint32_t instances) {
  node_spec n;
  n.app.name = name;
  n.app.argv = {"x"};
  n.app.instances = instances;
  return n;
}

node_spec group(const std::string& name, std::vector<node_spec> children) {
  node_spec n;
  n.type = node_spec::kind::group;
  n.group.name = name;
  n.group.children = std::move(children);
  return n;
}

const uint64_t fixed = config::daemon_fds + config::fd_reserve;

} // namespace

TEST_CASE("fd_budget: each instance costs five, each app two, the daemon a fixed part") {
  group_spec root;
  root.children = {app("a", 3), group("g", {app("g.b", 10000), group("g.h", {app("g.h.c", 1)})})};
  auto need = config::descriptors_needed(root);
  CHECK(need.instances == 10004);
  CHECK(need.for_instances == 10004 * 5);
  CHECK(need.besides == 3 * 2 + fixed);
  CHECK(need.total() == 10004 * 5 + 3 * 2 + fixed);
  CHECK(config::descriptors_needed(group_spec{}).total() == fixed);
}

TEST_CASE("fd_budget: a notify socket and a health check cost one more each per instance") {
  auto a = app("a", 1).app;
  CHECK(config::fds_of_instance(a) == 5);
  a.ready = "notify";
  CHECK(config::fds_of_instance(a) == 6);
  a.health.type = health_check_spec::kind::tcp;
  CHECK(config::fds_of_instance(a) == 7);
  group_spec root;
  root.children = {app("plain", 10), app("checked", 10)};
  root.children[1].app.health.type = health_check_spec::kind::http;
  auto need = config::descriptors_needed(root);
  CHECK(need.for_instances == 10 * 5 + 10 * 6);
}

TEST_CASE("fd_budget: a tree that fits is not refused, one descriptor more is") {
  group_spec root;
  root.children = {app("s", 100)};
  auto need = config::descriptors_needed(root);
  CHECK(config::fd_refusal(need, need.total(), "the daemon's limit").empty());
  CHECK(config::fd_refusal(need, UINT64_MAX, "the daemon's limit").empty());
  CHECK(!config::fd_refusal(need, need.total() - 1, "the daemon's limit").empty());
}

TEST_CASE("fd_budget: the refusal names the need, its parts, the limit and the fix") {
  group_spec root;
  root.children = {app("s", 10000)};
  auto text = config::fd_refusal(config::descriptors_needed(root), 20000, "the daemon's limit");
  auto besides = std::to_string(2 + fixed);
  CHECK(text == "this tree needs ~50," + std::to_string(2 + fixed) + " descriptors (10,000 "
                "instances × 5 + " + besides + " besides), the daemon's limit is 20,000: raise "
                "it (LimitNOFILE= in the systemd unit, `ulimit -n`, `prlimit`) or run fewer "
                "instances");
  root.children[0].app.ready = "notify";
  text = config::fd_refusal(config::descriptors_needed(root), 50000, "L");
  CHECK(text.find("needs ~60,") != std::string::npos);
  CHECK(text.find("(10,000 instances: 60,000 + " + besides + " besides), L is 50,000:")
        != std::string::npos);
}
