// `listen` in a config: its forms, the errors `arbor check` reports at the
// value's position, and no address bound by two apps.

#include <catch2/catch.hpp>

#include "config/loader.hpp"

using arbor::config::load_string;
using Catch::Contains;
using Catch::Equals;

namespace {

std::vector<std::string> errors_of(std::string_view text) {
  auto r = load_string(text, "t.toml", "/srv/app");
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(d.to_string());
  return out;
}

std::string one_error(std::string_view text) {
  auto e = errors_of(text);
  std::string all;
  for (const auto& s : e) all += s + "\n";
  INFO(all);
  REQUIRE(e.size() == 1);
  return e.front();
}

} // namespace

TEST_CASE("listen config: a string, a table, or an array of either") {
  auto r = load_string("[web]\ncommand = \"x\"\nlisten = \"127.0.0.1:3000\"\n"
                       "[api]\ncommand = \"y\"\nlisten = [\":4000\", { address = \"unix:/run/a.sock\","
                       " mode = \"0660\", owner = \"www-data:www-data\", name = \"http\" }]\n",
                       "t.toml", "/srv/app");
  REQUIRE(r.ok());
  const auto& web = r.tree->root.children[0].app;
  REQUIRE(web.listen.size() == 1);
  CHECK(web.listen[0].address == "127.0.0.1:3000");
  const auto& api = r.tree->root.children[1].app;
  REQUIRE(api.listen.size() == 2);
  CHECK(api.listen[1].address == "unix:/run/a.sock");
  CHECK(api.listen[1].mode == "0660");
  CHECK(api.listen[1].owner == "www-data:www-data");
  CHECK(api.listen[1].name == "http");
}

TEST_CASE("listen config: bad values are reported where they are written") {
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = \"localhost:3000\"\n"),
             Equals("t.toml:3:10: 'listen': 'localhost:3000': the host must be a numeric address "
                    "(127.0.0.1, [::1]) or empty for every address (\":3000\")"));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = [\":1\", \"1.2.3.4:99999\"]\n"),
             Equals("t.toml:3:17: 'listen[1]': '1.2.3.4:99999': '99999' is not a port number "
                    "(1-65535)"));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = { address = \":80\", mode = \"0660\" }\n"),
             Equals("t.toml:3:36: 'listen.mode' applies to unix sockets only"));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = { address = \"unix:/a\", mode = \"rw\" }\n"),
             Contains("'listen.mode': 'rw' is not an octal mode such as \"0660\""));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = { adress = \":80\" }\n"),
             Contains("unknown key 'adress' in 'listen' of app 'web' (did you mean 'address'?)"));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = 3000\n"),
             Contains("'listen' must be an address"));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = [\":80\", \":80\"]\n"),
             Contains("'listen[1]': :80 is already listed at 'listen[0]'"));
  CHECK_THAT(one_error("[web]\ncommand = \"x\"\nlisten = { address = \":80\", name = \"a:b\" }\n"),
             Contains("(LISTEN_FDNAMES)"));
}

TEST_CASE("listen config: two apps on one address is an error") {
  CHECK_THAT(one_error("[a]\ncommand = \"x\"\nlisten = \"127.0.0.1:3000\"\n"
                       "[b]\ncommand = \"y\"\nlisten = \":3000\"\n"),
             Equals("t.toml:6:10: 'listen': :3000 is also bound by app 'a' (127.0.0.1:3000)"));
  CHECK(errors_of("[a]\ncommand = \"x\"\nlisten = \"127.0.0.1:3000\"\n"
                  "[b]\ncommand = \"y\"\nlisten = \"127.0.0.2:3000\"\n").empty());
}
