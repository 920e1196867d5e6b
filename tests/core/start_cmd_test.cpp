// `arbor start -- CMD` and `arbor delete`: a command run without a file joins
// the running tree and the overlay the daemon keeps, so `down`/`up` brings it
// back; a clash or a bad flag changes nothing; `delete` forgets it for good.

#include <catch2/catch.hpp>

#include <fstream>

#include <signal.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;
using Catch::Contains;

namespace {

/// The "NAME=value" entries of a running process's environment.
std::vector<std::string> environ_of(int pid) {
  auto text = slurp("/proc/" + std::to_string(pid) + "/environ");
  std::vector<std::string> out;
  for (size_t at = 0; at < text.size();) {
    auto end = text.find('\0', at);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

bool has_entry(const std::vector<std::string>& env, const std::string& prefix) {
  for (auto& e : env)
    if (e.rfind(prefix, 0) == 0) return true;
  return false;
}

/// `arbor start ARGS... -- <test child> sleep`.
cli_result start_sleeper(std::vector<std::string> args, const std::string& home) {
  args.insert(args.begin(), "start");
  args.insert(args.end(), {"--", ARBOR_TEST_CHILD, "sleep"});
  return run_arbor(args, home);
}

/// A daemon in its own home running a.toml's one app, `a`.
struct daemon_with_a {
  temp_dir d;
  std::string home = d.file("home");
  daemon_guard guard{home};
  std::string cfg = d.file("a.toml");
  daemon_with_a() { up_with(home, cfg, "[a]\nargs = " + child_args({"sleep"}) + "\n"); }
};

} // namespace

TEST_CASE("start -- CMD: a running app in the tree, marked as started, kept by down and up") {
  daemon_with_a t;
  const auto& home = t.home;
  const auto& cfg = t.cfg;

  auto started = start_sleeper({"--name", "w", "-i", "2", "--env", "MARK=started"}, home);
  INFO(started.out << started.err);
  REQUIRE(started.rc == 0);
  CHECK_THAT(started.out, Contains("arbor: started w (2 instances of `"));
  REQUIRE(eventually([&] { return pids_of(home).size() == 3; }));
  for (const char* id : {"w#0", "w#1"}) {
    int pid = pids_of(home).at(id);
    CHECK(::kill(pid, 0) == 0);
    auto env = environ_of(pid);
    CHECK(has_entry(env, std::string{"ARBOR_ID="}));
    CHECK(has_entry(env, "MARK=started"));
  }
  CHECK(instance_of(home, "w#0")["from"] == "arbor start");
  CHECK_FALSE(instance_of(home, "a#0").contains("from"));
  CHECK_THAT(run_arbor({"status"}, home).out, Contains("w*"));
  auto show = run_arbor({"show", "w"}, home);
  CHECK_THAT(show.out, Contains("from arbor start (arbor delete w removes it)"));
  CHECK_THAT(run_arbor({"show", "a"}, home).out, Contains("from " + cfg));
  CHECK_THAT(slurp(home + "/overlay.toml"), Contains("[w]"));

  // An apply of the file keeps it; so do down and up.
  const auto before = pids_of(home).at("w#0");
  REQUIRE(run_arbor({"apply", cfg}, home).rc == 0);
  CHECK(pids_of(home).at("w#0") == before);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  REQUIRE(eventually([&] { return pids_of(home).size() == 3; }));
  const int again = pids_of(home).at("w#1");
  CHECK(::kill(again, 0) == 0);
  CHECK(has_entry(environ_of(again), "MARK=started"));
  auto deleted = arbor_json({"delete", "w"}, home);
  CHECK(deleted["deleted"] == "w");
  CHECK(deleted["removed"] == nlohmann::json{"w"});
  CHECK(pids_of(home).size() == 1);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("start -- CMD: a name clash or a bad flag changes nothing, and delete forgets the app") {
  daemon_with_a t;
  const auto& home = t.home;
  const auto& cfg = t.cfg;
  REQUIRE(eventually([&] { return pids_of(home).size() == 1; }));
  const auto before = pids_of(home);

  auto clash = start_sleeper({"--name", "a"}, home);
  CHECK(clash.rc == 1);
  CHECK_THAT(clash.err, Contains("'a' is already in the tree (from " + cfg
                                 + "); --name NAME gives another name; nothing changed"));
  auto bad_restart = start_sleeper({"--restart", "sometimes"}, home);
  CHECK(bad_restart.rc == 2);
  CHECK_THAT(bad_restart.err, Contains("'restart' must be"));
  CHECK_THAT(bad_restart.err, Contains("nothing changed"));
  auto bad_env = start_sleeper({"--env", "NOEQUALS"}, home);
  CHECK(bad_env.rc == 2);
  CHECK_THAT(bad_env.err, Contains("--env 'NOEQUALS' is not NAME=value"));
  CHECK(start_sleeper({"-i", "many"}, home).rc == 1);
  auto empty = run_arbor({"start", "--"}, home);
  CHECK(empty.rc == 1);
  CHECK_THAT(empty.err, Contains("needs a command"));
  CHECK(pids_of(home) == before);
  CHECK(slurp(home + "/overlay.toml").empty());

  REQUIRE(start_sleeper({"--name", "w"}, home).rc == 0);
  REQUIRE(eventually([&] { return pids_of(home).count("w#0") == 1; }));
  const int w = pids_of(home).at("w#0");
  auto twice = start_sleeper({"--name", "w"}, home);
  CHECK(twice.rc == 1);
  CHECK_THAT(twice.err, Contains("'w' is already in the tree (added by `arbor start`)"));

  auto file_app = run_arbor({"delete", "a"}, home);
  CHECK(file_app.rc == 1);
  CHECK_THAT(file_app.err, Contains("'a' is from " + cfg + ": remove it there"));
  CHECK(run_arbor({"delete", "nope"}, home).rc == 1);
  auto del = run_arbor({"delete", "w"}, home);
  INFO(del.err);
  REQUIRE(del.rc == 0);
  CHECK_THAT(del.out, Contains("deleted w"));
  CHECK(pids_of(home).count("w#0") == 0);
  CHECK(eventually([&] { return ::kill(w, 0) != 0; }));
  CHECK(pids_of(home) == before);

  REQUIRE(run_arbor({"down"}, home).rc == 0);
  REQUIRE(run_arbor({"up", cfg}, home).rc == 0);
  REQUIRE(eventually([&] { return pids_of(home).size() == 1; }));
  CHECK(pids_of(home).count("w#0") == 0);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("start -- CMD with no daemon starts one, a replaced daemon keeps it, and a file defining its name is refused at up") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto first = start_sleeper({"--name", "w"}, home);
  INFO(first.out << first.err);
  REQUIRE(first.rc == 0);
  CHECK_THAT(first.out, Contains("daemon started"));
  REQUIRE(eventually([&] { return pids_of(home).count("w#0") == 1; }));
  const int w = pids_of(home).at("w#0");

  // The daemon the keeper starts after a SIGKILL runs it too: re-adopted.
  REQUIRE(replace_daemon(home));
  CHECK(pids_of(home).at("w#0") == w);
  CHECK(instance_of(home, "w#0")["from"] == "arbor start");
  REQUIRE(run_arbor({"down"}, home).rc == 0);

  // The started app and a file's app of the same name: neither wins silently.
  const auto cfg = d.file("b.toml");
  std::ofstream(cfg) << "[w]\nargs = " << child_args({"sleep"}) << "\n";
  auto up = run_arbor({"up", cfg}, home);
  CHECK(up.rc == 2);
  CHECK_THAT(up.err, Contains("'w' is defined by " + cfg + " and by `arbor start` too"));
  CHECK(daemon_pid(home) == 0);
}

TEST_CASE("start -- CMD: delete with no daemon forgets the app, and the next up does not start it") {
  daemon_with_a t;
  const auto& home = t.home;
  REQUIRE(start_sleeper({"--name", "w"}, home).rc == 0);
  REQUIRE(start_sleeper({"--name", "v"}, home).rc == 0);
  REQUIRE(run_arbor({"down"}, home).rc == 0);
  const auto overlay = slurp(home + "/overlay.toml");

  auto nope = run_arbor({"delete", "a"}, home); // the file's app, unknown offline
  CHECK(nope.rc == 1);
  CHECK_THAT(nope.err, Contains("'a' is no app `arbor start` added"));
  CHECK_THAT(nope.err, Contains("nothing changed"));
  CHECK(slurp(home + "/overlay.toml") == overlay);

  auto del = run_arbor({"delete", "w"}, home);
  INFO(del.err);
  REQUIRE(del.rc == 0);
  CHECK_THAT(del.out, Contains("deleted w (no daemon runs"));
  CHECK_THAT(slurp(home + "/overlay.toml"), !Contains("[w]"));
  CHECK_THAT(slurp(home + "/overlay.toml"), Contains("[v]"));

  REQUIRE(run_arbor({"up", t.cfg}, home).rc == 0);
  REQUIRE(eventually([&] { return pids_of(home).size() == 2; }));
  CHECK(pids_of(home).count("v#0") == 1);
  CHECK(pids_of(home).count("w#0") == 0);
  CHECK(run_arbor({"down"}, home).rc == 0);
}
