#include <catch2/catch.hpp>

#include "config/suggest.hpp"

using namespace arbor::config::detail;

TEST_CASE("suggest: edit distance") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("restart", "restart") == 0);
  CHECK(edit_distance("restat", "restart") == 1);
  CHECK(edit_distance("resatrt", "restart") == 1); // swap
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("PORT", "port") == 0);
}

TEST_CASE("suggest: closest plausible candidate or nothing") {
  std::vector<std::string_view> keys = {"restart", "restart_on_exit", "port", "instances"};
  CHECK(suggest("restat", keys) == std::string{"restart"});
  CHECK(suggest("instance", keys) == std::string{"instances"});
  CHECK(suggest("prot", keys) == std::string{"port"});
  CHECK_FALSE(suggest("xyz", keys));
  CHECK_FALSE(suggest("completely_different", keys));
  CHECK(did_you_mean("restat", keys) == " (did you mean 'restart'?)");
  CHECK(did_you_mean("zzz", keys).empty());
}
