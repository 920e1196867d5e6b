#include <catch2/catch.hpp>

#include "config/app_fields.hpp"
#include "config/loader.hpp"

#include <nlohmann/json.hpp>

using arbor::config::load_string;
using Catch::Contains;

namespace {

const arbor::app_spec& app_of(const arbor::config::load_result& r) {
  REQUIRE(r.ok());
  return r.tree->root.children.at(0).app;
}

arbor::config::load_result app_with(const std::string& lines) {
  return load_string("[a]\ncommand = \"x\"\n" + lines + "\n", "t.toml", "/srv/app");
}

std::string error_of(const std::string& lines) {
  auto r = app_with(lines);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  return r.errors.front().to_string();
}

} // namespace

TEST_CASE("limits: memory_max, cpu_max, cpu_weight and pids_max are read", "[limits]") {
  auto r = app_with("memory_max = \"64M\"\ncpu_max = \"50%\"\ncpu_weight = 200\npids_max = 64");
  auto& a = app_of(r);
  CHECK(a.memory_max == 64u << 20);
  CHECK(a.cpu_quota_us == 50000);
  CHECK(a.cpu_weight == 200);
  CHECK(a.pids_max == 64);
}

TEST_CASE("limits: cpu_max as a share, a number of CPUs in a string, or a number", "[limits]") {
  CHECK(app_of(app_with("cpu_max = \"1.5\"")).cpu_quota_us == 150000);
  CHECK(app_of(app_with("cpu_max = 1.5")).cpu_quota_us == 150000);
  CHECK(app_of(app_with("cpu_max = 2")).cpu_quota_us == 200000);
  CHECK(app_of(app_with("cpu_max = \"250%\"")).cpu_quota_us == 250000);
  CHECK(app_of(app_with("cpu_max = \"1%\"")).cpu_quota_us == 1000);
}

TEST_CASE("limits: bad values are errors at their line", "[limits]") {
  CHECK_THAT(error_of("cpu_max = \"lots\""), Contains("t.toml:3") && Contains("'cpu_max' must be"));
  CHECK_THAT(error_of("cpu_max = \"0.5%\""), Contains("between 1% and 1000 CPUs, got '0.5%'"));
  CHECK_THAT(error_of("cpu_max = \"50%%\""), Contains("'cpu_max' must be"));
  CHECK_THAT(error_of("cpu_max = -1"), Contains("'cpu_max' must be"));
  CHECK_THAT(error_of("cpu_max = true"), Contains("'cpu_max' must be"));
  CHECK_THAT(error_of("memory_max = \"512K\""), Contains("'memory_max' must be at least 1M"));
  CHECK_THAT(error_of("memory_max = \"lots\""), Contains("'memory_max'"));
  CHECK_THAT(error_of("cpu_weight = 0"), Contains("'cpu_weight'"));
  CHECK_THAT(error_of("cpu_weight = 10001"), Contains("'cpu_weight'"));
  CHECK_THAT(error_of("pids_max = 0"), Contains("'pids_max'"));
}

TEST_CASE("limits: a changed limit restarts the app on apply, and shows as written", "[limits]") {
  auto a = app_of(app_with("cpu_max = \"50%\""));
  auto b = app_of(app_with("cpu_max = \"75%\""));
  auto keys = arbor::config::changed_keys(a, b);
  REQUIRE(keys.size() == 1);
  CHECK(keys.front() == "cpu_max");
  nlohmann::json j;
  for (auto& f : arbor::config::app_fields())
    if (f.key == "cpu_max") f.to_json(a, j);
  CHECK(j["cpu_max"] == "50%");
}
