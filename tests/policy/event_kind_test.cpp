// Event kinds and restart causes: their text is what the protocol's JSON and
// the logs show (src/proto/PROTOCOL.md), and the CLI reads it back.

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "arbor/event_kind.hpp"

using namespace arbor;

TEST_CASE("event_kind: every kind round-trips through its text") {
  std::set<std::string> seen;
  for (int i = 0; i < event_kind_count; ++i) {
    auto k = static_cast<event_kind>(i);
    std::string text = to_string(k);
    INFO(text);
    CHECK(text != "unknown");
    CHECK(seen.insert(text).second); // no two kinds share a text
    auto back = parse_event_kind(text);
    REQUIRE(back);
    CHECK(*back == k);
  }
  CHECK(seen.size() == static_cast<size_t>(event_kind_count));
}

TEST_CASE("event_kind: the texts are the protocol's") {
  CHECK(std::string{to_string(event_kind::child_started)} == "child_started");
  CHECK(std::string{to_string(event_kind::restarting_siblings)} == "restarting_siblings");
  CHECK(std::string{to_string(event_kind::dependencies_ready)} == "dependencies_ready");
  CHECK(std::string{to_string(event_kind::reload_aborted)} == "reload_aborted");
  CHECK(std::string{to_string(event_kind::leftovers)} == "leftovers");
  CHECK(std::string{to_string(event_kind::keeper_lost)} == "keeper_lost");
  CHECK(std::string{to_string(event_kind::daemon_replaced)} == "daemon_replaced");
}

TEST_CASE("event_kind: text that names no kind is refused") {
  CHECK_FALSE(parse_event_kind(""));
  CHECK_FALSE(parse_event_kind("unknown"));
  CHECK_FALSE(parse_event_kind("Child_Started"));
  CHECK_FALSE(parse_event_kind("child_started "));
}

TEST_CASE("restart_cause: distinct texts, the /metrics reason labels") {
  std::set<std::string> seen;
  for (int i = 0; i < restart_cause_count; ++i)
    CHECK(seen.insert(to_string(static_cast<restart_cause>(i))).second);
  CHECK(std::string{to_string(restart_cause::memory_limit)} == "memory_limit");
  CHECK(std::string{to_string(restart_cause::crash)} == "crash");
  CHECK(manual().cause == restart_cause::manual);
  CHECK(manual().text == "manual");
}
