#include <catch2/catch.hpp>

#include "config/loader.hpp"

using namespace arbor;
using arbor::config::load_string;
using Catch::Contains;

namespace {

config::load_result load(std::string_view text) {
  return load_string(text, "t.toml", "/srv/app");
}

std::string errors(const config::load_result& r) {
  std::string out;
  for (const auto& d : r.errors) out += d.to_string() + "\n";
  return out;
}

const std::string app = "[a]\ncommand = \"x\"\n";

} // namespace

TEST_CASE("web config: off without [web], the table alone turns it on at 127.0.0.1:9200") {
  auto off = load(app);
  REQUIRE(off.ok());
  CHECK_FALSE(off.tree->web.enabled);
  auto on = load("[web]\n" + app);
  INFO(errors(on));
  REQUIRE(on.ok());
  CHECK(on.tree->web.enabled);
  CHECK(on.tree->web.listen == "127.0.0.1:9200");
  CHECK(on.tree->web.token_file.empty());
  CHECK_FALSE(on.tree->web.read_only);
}

TEST_CASE("web config: listen, token_file (next to the config), read_only, enabled") {
  auto r = load("[web]\nlisten = \"127.0.0.1:8080\"\ntoken_file = \"secret/token\"\nread_only = true\n" + app);
  INFO(errors(r));
  REQUIRE(r.ok());
  CHECK(r.tree->web.listen == "127.0.0.1:8080");
  CHECK(r.tree->web.token_file == "/srv/app/secret/token");
  CHECK(r.tree->web.read_only);
  auto disabled = load("[web]\nenabled = false\n" + app);
  REQUIRE(disabled.ok());
  CHECK_FALSE(disabled.tree->web.enabled);
}

TEST_CASE("web config: an app or group named web stays one") {
  auto r = load("[web]\ncommand = \"server\"\n");
  INFO(errors(r));
  REQUIRE(r.ok());
  CHECK_FALSE(r.tree->web.enabled);
  REQUIRE(r.tree->root.children.size() == 1);
  CHECK(r.tree->root.children[0].name() == "web");
  auto group = load("[web.api]\ncommand = \"server\"\n");
  REQUIRE(group.ok());
  CHECK_FALSE(group.tree->web.enabled);
}

TEST_CASE("web config: a non-loopback listen without token_file is refused, with how to fix it") {
  auto r = load("[web]\nlisten = \"0.0.0.0:9200\"\n" + app);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(errors(r), Contains("t.toml:2:10: [web] listen = \"0.0.0.0:9200\" is not a loopback "
                                 "address: set 'token_file'"));
  auto with_token = load("[web]\nlisten = \"0.0.0.0:9200\"\ntoken_file = \"/etc/arbor/token\"\n" + app);
  INFO(errors(with_token));
  CHECK(with_token.ok());
  for (auto loopback : {"localhost:9200", "[::1]:9200", "127.0.0.5:9200"}) {
    auto l = load("[web]\nlisten = \"" + std::string{loopback} + "\"\n" + app);
    INFO(loopback << ": " << errors(l));
    CHECK(l.ok());
  }
}

TEST_CASE("web config: bad values and unknown keys") {
  CHECK_THAT(errors(load("[web]\nlisten = \"nope\"\n" + app)),
             Contains("[web] 'listen': 'nope' is not \"host:port\""));
  CHECK_THAT(errors(load("[web]\nlisten = \"127.0.0.1:70000\"\n" + app)), Contains("out of range"));
  CHECK_THAT(errors(load("[web]\nread_only = \"yes\"\n" + app)), Contains("read_only"));
  CHECK_THAT(errors(load("[web]\nlisen = \"x:1\"\n" + app)),
             Contains("unknown key 'lisen' in [web] (the dashboard; an app named web needs "
                      "'command') (did you mean 'listen'?)"));
}

TEST_CASE("web config: check's summary says where the dashboard is") {
  auto r = load("[web]\nread_only = true\n" + app);
  REQUIRE(r.ok());
  CHECK_THAT(config::render_tree(*r.tree), Contains("web dashboard on 127.0.0.1:9200 (read-only)"));
}
