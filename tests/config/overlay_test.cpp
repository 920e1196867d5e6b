// The overlay of `arbor start -- CMD`: its text edited app by app, read back
// by the loader, and merged after a config file's apps.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config/overlay.hpp"

using namespace arbor;
using namespace arbor::config;
using Catch::Contains;

namespace {

started_app web() {
  started_app a;
  a.name = "web";
  a.args = {"python3", "-m", "http.server", "8000"};
  a.instances = 2;
  a.restart = "always";
  a.cwd = "/srv/site";
  a.env = {"MODE=a=b"};
  return a;
}

struct temp_home {
  std::string path;
  temp_home() {
    char tmpl[] = "/tmp/arbor-overlay-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_home() { std::filesystem::remove_all(path); }
};

} // namespace

TEST_CASE("overlay: an added app loads back as given, and removing it leaves the others") {
  std::string error;
  auto text = overlay_with("", web(), error);
  REQUIRE(error.empty());
  auto w = web();
  w.name = "worker";
  w.args = {"node", "worker.js"};
  w.instances = 1;
  w.restart.clear();
  w.env.clear();
  text = overlay_with(text, w, error);
  CHECK(overlay_names(text) == std::vector<std::string>{"web", "worker"});

  auto res = load_overlay(text, "/home/u/.arbor");
  REQUIRE(res.ok());
  auto* app = &res.tree->root.children.at(0).app;
  if (app->name != "web") app = &res.tree->root.children.at(1).app;
  CHECK(app->argv == std::vector<std::string>{"python3", "-m", "http.server", "8000"});
  CHECK(app->instances == 2);
  CHECK(app->restart == restart_policy::always);
  CHECK(app->cwd == "/srv/site");
  CHECK(from_overlay(app->where, "/home/u/.arbor"));
  CHECK_FALSE(from_overlay(app->where, "/home/v/.arbor"));

  auto without = overlay_without(text, "web");
  CHECK(overlay_names(without) == std::vector<std::string>{"worker"});
  CHECK(overlay_without(without, "worker").empty());
  CHECK(overlay_without(without, "nothing") == without);
}

TEST_CASE("overlay: bad values are the loader's errors, and a bad env entry is refused") {
  std::string error;
  auto a = web();
  a.restart = "sometimes";
  auto res = load_overlay(overlay_with("", a, error), "/h");
  REQUIRE_FALSE(res.ok());
  CHECK_THAT(res.errors.front().message, Contains("'restart' must be"));
  a = web();
  a.env = {"NOEQUALS"};
  CHECK(overlay_with("", a, error).empty());
  CHECK(error == "--env 'NOEQUALS' is not NAME=value");
}

TEST_CASE("overlay: merged after the file's apps, and a name both define is an error") {
  temp_home home;
  const auto file = home.path + "/arbor.toml";
  std::ofstream(file) << "[api]\ncommand = \"sleep 1\"\n";
  std::string error;
  auto a = web();
  std::ofstream(overlay_path(home.path)) << overlay_with("", a, error);

  auto res = load_with_overlay(file, {}, home.path);
  REQUIRE(res.ok());
  REQUIRE(res.tree->root.children.size() == 2);
  CHECK(res.tree->root.children[0].name() == "api");
  CHECK(res.tree->root.children[1].name() == "web");
  auto alone = load_with_overlay("", {}, home.path);
  REQUIRE(alone.ok());
  CHECK(alone.tree->root.children.size() == 1);

  std::ofstream(file) << "[web]\ncommand = \"sleep 1\"\n";
  auto clash = load_with_overlay(file, {}, home.path);
  REQUIRE_FALSE(clash.ok());
  CHECK_THAT(clash.errors.front().message,
             Contains("'web' is defined by " + file + " and by `arbor start` too"));
}

TEST_CASE("overlay: none is an empty overlay, and a symlink in its place is refused") {
  temp_home home;
  std::string text = "x", error;
  CHECK(read_overlay(home.path, text, error));
  CHECK(text.empty());
  std::ofstream(home.path + "/elsewhere.toml") << "[x]\ncommand = \"y\"\n";
  REQUIRE(::symlink((home.path + "/elsewhere.toml").c_str(), overlay_path(home.path).c_str()) == 0);
  CHECK_FALSE(read_overlay(home.path, text, error));
  CHECK_THAT(error, Contains("cannot read " + overlay_path(home.path)));
}
