// Reading TOML through libarbor-config.so (config/load/via_module.hpp): the
// same result as the loader itself, and the module is gone from the process
// once the load is done; a daemon never keeps toml++ mapped.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli_util.hpp"
#include "config/load/via_module.hpp"
#include "config/loader.hpp"
#include "harness.hpp"

using namespace arbor;
using namespace arbor::test;

namespace {

/// Sets an environment variable for the scope.
struct scoped_env {
  std::string name;
  std::string old;
  bool had;
  scoped_env(std::string n, const std::string& v) : name(std::move(n)) {
    const char* o = std::getenv(name.c_str());
    had = o != nullptr;
    if (had) old = o;
    ::setenv(name.c_str(), v.c_str(), 1);
  }
  ~scoped_env() {
    if (had) ::setenv(name.c_str(), old.c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

} // namespace

TEST_CASE("config module: same tree and diagnostics as the loader, then unloaded") {
  temp_dir d;
  std::string good = "[web]\nstrategy = \"one_for_all\"\n[web.api]\ncommand = \"sleep 60\"\n"
                     "instances = 3\nmax_memory = \"64M\"\n[solo]\nargs = [\"/bin/true\"]\n";
  auto via = config::load_string_via_module(good, d.file("a.toml"), d.path.string());
  auto direct = config::load_string(good, d.file("a.toml"), d.path.string());
  REQUIRE(via.ok());
  REQUIRE(direct.ok());
  CHECK(config::render_tree(*via.tree) == config::render_tree(*direct.tree));
  CHECK(via.tree->file == direct.tree->file);

  std::string bad = "[x]\ncommand = \"true\"\ninstances = \"two\"\nrestart = \"sometimes\"\n";
  auto vb = config::load_string_via_module(bad, "bad.toml", d.path.string());
  auto db = config::load_string(bad, "bad.toml", d.path.string());
  CHECK_FALSE(vb.ok());
  REQUIRE(vb.errors.size() == db.errors.size());
  for (size_t i = 0; i < vb.errors.size(); ++i)
    CHECK(vb.errors[i].to_string() == db.errors[i].to_string());

  std::ofstream(d.file("f.toml")) << good;
  auto vf = config::load_file_via_module(d.file("f.toml"));
  REQUIRE(vf.ok());
  auto df = config::load_file(d.file("f.toml"));
  REQUIRE(df.ok());
  CHECK(config::render_tree(*vf.tree) == config::render_tree(*df.tree));

  // dlclose()d after each load: nothing of it stays mapped.
  CHECK(slurp("/proc/self/maps").find("libarbor-config.so") == std::string::npos);
}

TEST_CASE("config module: a missing module is a diagnostic naming where it looked") {
  scoped_env env{"ARBOR_CONFIG_MODULE", "/nonexistent/libarbor-config.so"};
  auto r = config::load_file_via_module("/etc/whatever.toml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string()
        == "/etc/whatever.toml: cannot load the config module libarbor-config.so "
           "(/nonexistent/libarbor-config.so: not found)");
}

TEST_CASE("config module: a running daemon maps neither toml++ nor the module, also after apply") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  std::ofstream(cfg) << "[idle]\nargs = " << child_args({"sleep"}) << "\n";
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  auto maps = daemon_maps(home);
  CHECK(maps.find("libtomlplusplus") == std::string::npos);
  CHECK(maps.find("libarbor-config.so") == std::string::npos);

  std::ofstream(cfg) << "[idle]\nargs = " << child_args({"sleep"}) << "\ninstances = 2\n";
  auto applied = arbor_json({"apply"}, home);
  CHECK(arbor_json({"status"}, home)["instances"].size() == 2);
  maps = daemon_maps(home);
  CHECK(maps.find("libtomlplusplus") == std::string::npos);
  CHECK(maps.find("libarbor-config.so") == std::string::npos);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}
