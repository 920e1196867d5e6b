// The control plane end to end: the real CLI binary against a real daemon in
// a temporary ARBOR_HOME.

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_util.hpp"
#include "harness.hpp"

using namespace arbor::test;

namespace {

std::string config(const std::string& solo_arg) {
  return "[web.api]\nargs = " + child_args({"print", "hello"}) + "\ninstances = 2\n"
         + "[web.worker]\nargs = " + child_args({"sleep"}) + "\n"
         + "[solo]\nargs = " + child_args({"sleep", solo_arg}) + "\nkill_timeout = 2000\n";
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

/// Sends raw bytes to the daemon's socket and reads one reply line.
std::string raw_exchange(const std::string& sock, const std::string& bytes) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  ::close(fd);
  return line;
}

} // namespace

TEST_CASE("daemon: up, status, stop/start/restart/scale, apply, logs, down") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  write(cfg, config("600000"));

  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  CHECK(up.out.find("daemon started") != std::string::npos);

  // status --json: every instance running, with a pid.
  auto st = arbor_json({"status"}, home);
  REQUIRE(st["instances"].size() == 4);
  for (auto& i : st["instances"]) {
    CHECK(i["state"] == "running");
    CHECK(i["pid"].get<int>() > 0);
  }
  auto before = pids_of(home);

  // stop / start one app by its short name; the others keep their pids.
  auto stop = arbor_json({"stop", "worker"}, home);
  CHECK(stop["affected"] == nlohmann::json::array({"web.worker#0"}));
  auto now = pids_of(home);
  CHECK(now["web.worker#0"] == 0);
  CHECK(now["web.api#0"] == before["web.api#0"]);
  CHECK(now["solo#0"] == before["solo#0"]);
  CHECK(wait_gone(before["web.worker#0"]));
  arbor_json({"start", "web.worker"}, home);
  now = pids_of(home);
  CHECK(now["web.worker#0"] > 0);
  CHECK(now["web.worker#0"] != before["web.worker#0"]);

  // restart one instance: only it gets a new pid.
  arbor_json({"restart", "web.api#1"}, home);
  auto after_restart = pids_of(home);
  CHECK(after_restart["web.api#1"] != now["web.api#1"]);
  CHECK(after_restart["web.api#0"] == now["web.api#0"]);

  // scale up and down.
  auto sc = arbor_json({"scale", "api", "3"}, home);
  CHECK(sc["from"] == 2);
  CHECK(sc["to"] == 3);
  CHECK(pids_of(home).count("web.api#2") == 1);
  // "app#N" resolves against the running count (the tree's), not the file's 2.
  auto scaled_pid = pids_of(home)["web.api#2"];
  auto third = arbor_json({"restart", "web.api#2"}, home);
  CHECK(third["affected"] == nlohmann::json::array({"web.api#2"}));
  CHECK(pids_of(home)["web.api#2"] != scaled_pid);
  arbor_json({"scale", "web.api", "2"}, home);
  CHECK(pids_of(home).count("web.api#2") == 0);
  auto scaled_away = run_arbor({"restart", "web.api#2"}, home);
  CHECK(scaled_away.rc != 0);
  CHECK(scaled_away.err.find("'web.api#2': web.api has 2 instances (#0..#1)") != std::string::npos);

  // apply a changed file: only the changed app restarts.
  auto pre_apply = pids_of(home);
  write(cfg, config("700000"));
  auto ap = arbor_json({"apply", cfg}, home);
  CHECK(ap["changed"] == nlohmann::json::array({"solo"}));
  CHECK(ap["unchanged"].size() == 2);
  auto post_apply = pids_of(home);
  CHECK(post_apply["solo#0"] != pre_apply["solo#0"]);
  CHECK(post_apply["web.api#0"] == pre_apply["web.api#0"]);
  CHECK(post_apply["web.api#1"] == pre_apply["web.api#1"]);
  CHECK(post_apply["web.worker#0"] == pre_apply["web.worker#0"]);

  // A broken file is rejected with file:line:col and changes nothing.
  write(cfg, "[solo]\nargs = 5\n");
  auto bad = run_arbor({"apply", cfg}, home);
  CHECK(bad.rc == 2);
  CHECK(bad.err.find(cfg + ":2:") != std::string::npos);
  CHECK(pids_of(home) == post_apply);

  // logs shows the app's output, prefixed by instance.
  auto logs = run_arbor({"logs", "api", "-n", "10"}, home);
  CHECK(logs.rc == 0);
  CHECK(logs.out.find("web.api#0 | hello") != std::string::npos);

  // tree and events answer too.
  auto tree = arbor_json({"tree"}, home);
  CHECK(tree["root"]["children"].size() == 2);
  auto events = run_arbor({"events", "-n", "500", "--json"}, home); // JSON lines
  REQUIRE(events.rc == 0);
  size_t started = 0;
  std::istringstream lines(events.out);
  for (std::string l; std::getline(lines, l);)
    if (nlohmann::json::parse(l)["event"] == "child_started") ++started;
  CHECK(started >= 8);

  // down: everything stops, the daemon exits, nothing is left behind.
  std::ifstream pidfile(home + "/arbor.pid");
  int daemon_pid = 0;
  pidfile >> daemon_pid;
  REQUIRE(daemon_pid > 0);
  auto down = run_arbor({"down"}, home);
  CHECK(down.rc == 0);
  for (auto& [id, pid] : post_apply)
    if (pid > 0) CHECK(wait_gone(pid));
  CHECK(wait_gone(daemon_pid));
  auto gone = run_arbor({"status"}, home);
  CHECK(gone.rc == 3);
  CHECK(gone.err.find("no arbor daemon") != std::string::npos);
}

TEST_CASE("daemon: arbor events right after up lists every instance's start") {
  // The control actor subscribes to the bus before the tree starts: the
  // start's events (and a re-adoption's) are never lost to that race.
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  const int n = 16;
  write(cfg, "[fleet]\nargs = " + child_args({"sleep"}) + "\ninstances = " + std::to_string(n) + "\n");
  auto up = run_arbor({"up", cfg}, home);
  INFO(up.err);
  REQUIRE(up.rc == 0);
  std::set<std::string> started;
  CHECK(eventually([&] {
    auto events = run_arbor({"events", "-n", "500", "--json"}, home);
    std::istringstream lines(events.out);
    for (std::string l; std::getline(lines, l);) {
      auto e = nlohmann::json::parse(l);
      if (e["event"] == "child_started") started.insert(e["offender"].get<std::string>());
    }
    return started.size() == static_cast<size_t>(n);
  }, 5s));
  CHECK(started.size() == static_cast<size_t>(n));
  REQUIRE(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("daemon: a second daemon on the same home is refused, up applies instead") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  write(cfg, "[a]\nargs = " + child_args({"sleep"}) + "\n");
  REQUIRE(run_arbor({"up", cfg}, home).rc == 0);
  auto again = run_arbor({"up", cfg}, home);
  CHECK(again.rc == 0);
  CHECK(again.out.find("already running") != std::string::npos);
  auto fg = run_arbor({"run", cfg}, home);
  CHECK(fg.rc == 1);
  CHECK(fg.err.find("another arbor is already running") != std::string::npos);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("daemon: garbage on the socket gets an error reply and the daemon keeps serving") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  write(cfg, "[a]\nargs = " + child_args({"sleep"}) + "\n");
  REQUIRE(run_arbor({"up", cfg}, home).rc == 0);
  auto sock = home + "/arbor.sock";
  auto r1 = nlohmann::json::parse(raw_exchange(sock, "this is not json\n"));
  CHECK(r1["ok"] == false);
  CHECK(r1["error"]["code"] == "bad_request");
  auto r2 = nlohmann::json::parse(raw_exchange(sock, "{\"v\":1,\"id\":4,\"cmd\":\"stauts\"}\n"));
  CHECK(r2["error"]["code"] == "unknown_command");
  CHECK(r2["error"]["message"].get<std::string>().find("did you mean 'status'") != std::string::npos);
  auto r3 = nlohmann::json::parse(raw_exchange(sock, "{\"v\":1,\"id\":5,\"cmd\":\"stop\",\"args\":{\"names\":[\"nope\"]}}\n"));
  CHECK(r3["error"]["code"] == "not_found");
  auto ok = run_arbor({"status"}, home);
  CHECK(ok.rc == 0);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("daemon: a crash loop exhausts a group's intensity, the escalation shows in events and tree") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  auto cfg = d.file("arbor.toml");
  write(cfg, "[outer]\nintensity = 1\nperiod = 60\n[outer.inner]\nintensity = 1\nperiod = 60\n"
             "[outer.inner.boom]\nargs = " + child_args({"exit", "1"}) + "\n");
  REQUIRE(run_arbor({"up", cfg}, home).rc == 0);
  // Wait (bounded) until the tree shows outer failed.
  std::string outer_state;
  for (int i = 0; i < 400 && outer_state != "failed"; ++i) {
    auto t = arbor_json({"tree"}, home);
    outer_state = t["root"]["children"][0]["state"].get<std::string>();
    if (outer_state != "failed") std::this_thread::sleep_for(50ms); // the daemon's pace
  }
  REQUIRE(outer_state == "failed");
  auto events = run_arbor({"events", "-n", "1000", "--json"}, home);
  REQUIRE(events.rc == 0);
  bool inner_gave_up = false, escalated = false, outer_gave_up = false;
  std::istringstream lines(events.out);
  for (std::string l; std::getline(lines, l);) {
    auto e = nlohmann::json::parse(l);
    if (e["event"] == "gave_up" && e["supervisor"] == "outer.inner") inner_gave_up = true;
    if (e["event"] == "restarting" && e["supervisor"] == "outer" && e["offender"] == "outer.inner"
        && e["reason"].get<std::string>().rfind("escalation: ", 0) == 0)
      escalated = true;
    if (e["event"] == "gave_up" && e["supervisor"] == "outer") outer_gave_up = true;
  }
  CHECK(inner_gave_up);
  CHECK(escalated);
  CHECK(outer_gave_up);
  auto tree = run_arbor({"tree"}, home);
  CHECK(tree.out.find("intensity 1 in 60s exceeded") != std::string::npos);
  // The daemon keeps running and shows the failure; a manual restart revives.
  CHECK(run_arbor({"status"}, home).rc == 0);
  CHECK(run_arbor({"down"}, home).rc == 0);
}
