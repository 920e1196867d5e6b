#include <catch2/catch.hpp>

#include "config/app_fields.hpp"
#include "config/targets.hpp"
#include "config/loader.hpp"

using namespace arbor;
using arbor::config::load_options;
using arbor::config::load_result;

namespace {

using env_list = std::vector<std::pair<std::string, std::string>>;

const std::string data_dir = ARBOR_SOURCE_DIR "/tests/config/data";

load_result load(std::string_view text, const std::string& env = "",
                 const std::string& base = "/srv/app") {
  return config::load_string(text, "t.toml", base, load_options{env});
}

std::string all_errors(const load_result& r) {
  std::string out;
  for (const auto& d : r.errors) out += d.to_string() + "\n";
  return out;
}

const app_spec& app(const load_result& r, const std::string& name) {
  INFO(all_errors(r));
  REQUIRE(r.ok());
  const auto* a = config::find_app(r.tree->root, name);
  REQUIRE(a);
  return *a;
}

const char* const two_envs = R"(
[web]
command = "srv"
env = { NODE_ENV = "development", PORT_HINT = 1 }
[web.env_production]
NODE_ENV = "production"
DEBUG = false
[worker]
command = "w"
env = { QUEUE = "q" }
env_staging = { QUEUE = "q-staging" }
[plain]
command = "p"
env = { A = "1" }
)";

} // namespace

TEST_CASE("env overlays: unselected, an app runs with its plain env") {
  auto r = load(two_envs);
  CHECK(app(r, "web").env == env_list{{"NODE_ENV", "development"}, {"PORT_HINT", "1"}});
  CHECK(app(r, "worker").env == env_list{{"QUEUE", "q"}});
}

TEST_CASE("env overlays: the selected one lays over env per key, apps without it keep env") {
  auto r = load(two_envs, "production");
  CHECK(app(r, "web").env
        == env_list{{"NODE_ENV", "production"}, {"PORT_HINT", "1"}, {"DEBUG", "false"}});
  CHECK(app(r, "worker").env == env_list{{"QUEUE", "q"}});
  CHECK(app(r, "plain").env == env_list{{"A", "1"}});
  auto s = load(two_envs, "staging");
  CHECK(app(s, "worker").env == env_list{{"QUEUE", "q-staging"}});
  CHECK(app(s, "web").env == env_list{{"NODE_ENV", "development"}, {"PORT_HINT", "1"}});
}

TEST_CASE("env overlays: env_file, then env, then env_NAME: the last one wins") {
  auto r = load(R"(
[web]
command = "srv"
env_file = "app.env"
env = { SHARED = "from_table" }
env_production = { SHARED = "from_production", MODE = "prod" }
)", "production", data_dir);
  // env_file's MODE and SHARED (with env's duplicate) take the overlay's value.
  CHECK(app(r, "web").env == env_list{{"DATABASE_URL", "postgres://localhost/app"},
                                      {"MODE", "prod"},
                                      {"SHARED", "from_production"}});
}

TEST_CASE("env overlays: an app with only an overlay gets it as its env") {
  auto r = load("[a]\ncommand = \"a\"\n[a.env_prod-eu_2]\nX = 1.5\n", "prod-eu_2");
  CHECK(app(r, "a").env == env_list{{"X", "1.5"}});
}

TEST_CASE("env overlays: a name no app defines is an error listing the file's environments") {
  auto r = load(two_envs, "prod");
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string()
        == "t.toml: no app defines env_prod; the file defines: production, staging");
  auto none = load("[a]\ncommand = \"a\"\n", "production");
  REQUIRE(none.errors.size() == 1);
  CHECK_THAT(none.errors[0].message,
             Catch::StartsWith("no app defines env_production; the file defines: none"));
}

TEST_CASE("env overlays: never unknown keys, bad names and values are errors at their line") {
  CHECK(load(two_envs).ok());
  auto r = load(R"([a]
command = "a"
env_ = { X = "1" }
"env_a.b" = { X = "1" }
env_ok = "production"
env_fine = { X = [1] }
)");
  INFO(all_errors(r));
  REQUIRE(r.errors.size() == 4);
  CHECK_THAT(r.errors[0].to_string(), Catch::StartsWith("t.toml:3:1: 'env_' in app 'a': an "
                                                        "environment name"));
  CHECK_THAT(r.errors[1].to_string(), Catch::StartsWith("t.toml:4:1: 'env_a.b' in app 'a'"));
  CHECK_THAT(r.errors[2].to_string(),
             Catch::StartsWith("t.toml:5:10: 'env_ok' must be a table of NAME = \"value\", got "
                               "string"));
  CHECK_THAT(r.errors[3].to_string(),
             Catch::StartsWith("t.toml:6:18: 'env_fine.X' must be a string, number or boolean"));
}

TEST_CASE("env overlays: in a group or at top level it is an app setting") {
  auto r = load("[g.a]\ncommand = \"a\"\n[g.env_production]\nX = \"1\"\n");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0].message,
             Catch::StartsWith("'env_production' is an app setting, not allowed in group 'g'"));
  auto top = load("env_production = { X = \"1\" }\n[a]\ncommand = \"a\"\n");
  REQUIRE(top.errors.size() == 1);
  CHECK_THAT(top.errors[0].message,
             Catch::StartsWith("'env_production' is an app setting, not allowed at top level"));
}

TEST_CASE("env overlays: changing the selection changes exactly the apps whose env changes") {
  auto plain = load(two_envs);
  auto prod = load(two_envs, "production");
  CHECK(config::changed_keys(app(plain, "web"), app(prod, "web"))
        == std::vector<std::string_view>{"env"});
  CHECK(config::changed_keys(app(plain, "worker"), app(prod, "worker")).empty());
  CHECK(config::changed_keys(app(plain, "plain"), app(prod, "plain")).empty());
  // An overlay that repeats env's values changes nothing.
  auto same = load("[a]\ncommand = \"a\"\nenv = { X = \"1\" }\nenv_p = { X = \"1\" }\n", "p");
  auto base = load("[a]\ncommand = \"a\"\nenv = { X = \"1\" }\nenv_p = { X = \"1\" }\n");
  CHECK(config::changed_keys(app(base, "a"), app(same, "a")).empty());
}
