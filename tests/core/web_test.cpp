// `[web]` over HTTP without a browser: reads, the token, CSRF and Host
// checks, read_only, the event stream (tests/web/dashboard_test.py drives
// the page itself in headless chromium).

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include <sys/stat.h>

#include <httplib.h>

#include "cli_util.hpp"
#include "harness.hpp"
#include "net_util.hpp"

using namespace arbor::test;
using nlohmann::json;

namespace {

struct answer {
  int status = 0; ///< 0: no answer
  json body;
  std::string text;
};

answer to_answer(const httplib::Result& res) {
  answer a;
  if (!res) return a;
  a.status = res->status;
  a.text = res->body;
  a.body = json::parse(res->body, nullptr, false);
  return a;
}

httplib::Client client(uint16_t port) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(std::chrono::seconds(2));
  cli.set_read_timeout(std::chrono::seconds(30));
  return cli;
}

answer post(uint16_t port, const json& req, const httplib::Headers& headers = {}) {
  auto cli = client(port);
  return to_answer(cli.Post("/api/v1", headers, req.dump(), "application/json"));
}

answer get(uint16_t port, const std::string& path, const httplib::Headers& headers = {}) {
  auto cli = client(port);
  return to_answer(cli.Get(path.c_str(), headers));
}

json restart(const std::string& id) {
  return json{{"v", 1}, {"id", 7}, {"cmd", "restart"}, {"args", {{"names", {id}}}}};
}

const std::string one_app = "[svc]\nargs = [\"" ARBOR_TEST_CHILD "\", \"sleep\"]\n";

std::string config(uint16_t port, const std::string& extra, const std::string& apps) {
  return "[web]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n" + extra + "\n" + apps;
}

/// A daemon of its own home with [web] on a free port (and `extra` in [web]).
struct web_daemon {
  temp_dir d;
  std::string home = d.file("home");
  daemon_guard guard{home};
  uint16_t port = free_ports(1);

  explicit web_daemon(const std::string& extra = "", const std::string& apps = one_app,
                      const std::string& first = "svc#0") {
    up_with(home, d.file("arbor.toml"), config(port, extra, apps));
    REQUIRE(eventually([&] { return instance_of(home, first)["pid"] != 0; }));
  }
  ~web_daemon() { CHECK(run_arbor({"down"}, home).rc == 0); }

  /// The generated token (<home>/web.token without its newline).
  std::string token() const {
    auto t = slurp(home + "/web.token");
    if (!t.empty()) t.pop_back();
    return t;
  }
};

} // namespace

TEST_CASE("web: reads are open on the loopback, actions need the token, cross-origin is refused") {
  web_daemon w;
  auto& home = w.home;
  auto port = w.port;

  // The token was generated, readable by us alone.
  struct stat st{};
  REQUIRE(::stat((home + "/web.token").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(slurp(home + "/web.token").size() == 65); // 64 hex digits and a newline
  auto token = w.token();

  // The page and its files, compiled in.
  auto page = get(port, "/");
  CHECK(page.status == 200);
  CHECK(page.text.find("<script src=\"/app.js\">") != std::string::npos);
  CHECK(get(port, "/app.js").status == 200);
  CHECK(get(port, "/style.css").status == 200);
  CHECK(get(port, "/nothing").status == 404);

  // Reads: the protocol's reply objects, by GET or POST, without a token.
  auto tree = get(port, "/api/v1/tree");
  REQUIRE(tree.status == 200);
  CHECK(tree.body["v"] == 1);
  CHECK(tree.body["ok"] == true);
  CHECK(tree.body["result"]["root"]["children"][0]["name"] == "svc");
  auto status = post(port, {{"v", 1}, {"id", 3}, {"cmd", "status"}, {"args", {{"names", {"svc"}}}}});
  REQUIRE(status.status == 200);
  CHECK(status.body["id"] == 3);
  int pid = status.body["result"]["instances"][0]["pid"];
  CHECK(pid > 0);
  CHECK(get(port, "/api/v1/status?names=nope").status == 404);
  CHECK(get(port, "/api/v1/status?names=nope").body["error"]["code"] == "not_found");
  CHECK(get(port, "/api/v1/restart").status == 404); // actions are POST only
  auto bad = post(port, {{"v", 2}, {"id", 1}, {"cmd", "ping"}});
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["code"] == "unsupported_version");

  // Actions: refused without the token, or with a wrong one; nothing restarted.
  auto none = post(port, restart("svc#0"));
  CHECK(none.status == 401);
  CHECK(none.body["ok"] == false);
  CHECK(none.body["id"] == 7);
  CHECK(none.body["error"]["code"] == "unauthorized");
  auto wrong = post(port, restart("svc#0"), {{"X-Arbor-Token", std::string(64, '0')}});
  CHECK(wrong.status == 401);
  CHECK(wrong.body["error"]["message"] == "wrong token");
  // CSRF: another origin is refused even with the token; so is a name that is
  // not this dashboard's (DNS rebinding), even for reads.
  auto csrf = post(port, restart("svc#0"), {{"X-Arbor-Token", token}, {"Origin", "http://evil.example"}});
  CHECK(csrf.status == 403);
  CHECK(csrf.body["error"]["code"] == "forbidden");
  auto rebound = get(port, "/api/v1/tree", {{"Host", "evil.example:" + std::to_string(port)}});
  CHECK(rebound.status == 403);
  CHECK(instance_of(home, "svc#0")["pid"] == pid);

  // With the token (and this origin): done, a new pid.
  auto same_origin = "http://127.0.0.1:" + std::to_string(port);
  auto ok = post(port, restart("svc#0"), {{"X-Arbor-Token", token}, {"Origin", same_origin}});
  INFO(ok.text);
  CHECK(ok.status == 200);
  CHECK(ok.body["ok"] == true);
  CHECK(ok.body["result"]["affected"] == json::array({"svc#0"}));
  CHECK(instance_of(home, "svc#0")["pid"] != pid);
}

TEST_CASE("web: the event stream carries the bus's events as they happen") {
  web_daemon w;
  auto port = w.port;
  std::atomic<bool> started{false}, seen{false}, ended{false};
  std::string received, outcome;
  std::thread reader([&] {
    auto cli = client(port);
    auto res = cli.Get("/api/v1/stream", [&](const char* data, size_t n) {
      received.append(data, n);
      started = true;
      seen = received.find("\"event\":\"child_started\"") != std::string::npos;
      return !seen;
    });
    outcome = res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
    ended = true;
  });
  // The stream's first bytes (a comment) come once the daemon follows events.
  REQUIRE(eventually([&] { return started.load() || ended.load(); }));
  INFO("outcome " << outcome << ", received: " << received);
  REQUIRE(started);
  CHECK(post(port, restart("svc"), {{"X-Arbor-Token", w.token()}}).status == 200);
  CHECK(eventually([&] { return seen.load(); }));
  reader.join();
  CHECK(received.find("event: arbor\ndata: {") != std::string::npos);
}

TEST_CASE("web: read_only refuses actions even with the token, token_file is used as given") {
  temp_dir secrets;
  auto token_file = secrets.file("token");
  std::ofstream(token_file) << "a-token-of-our-own-choosing\n";
  web_daemon w{"read_only = true\ntoken_file = \"" + token_file + "\""};
  auto& home = w.home;
  auto port = w.port;
  CHECK(::access((home + "/web.token").c_str(), F_OK) != 0); // none generated
  auto pid = instance_of(home, "svc#0")["pid"];
  auto r = post(port, restart("svc#0"), {{"X-Arbor-Token", "a-token-of-our-own-choosing"}});
  CHECK(r.status == 403);
  CHECK(r.body["error"]["message"] == "read-only dashboard ([web] read_only = true)");
  CHECK(get(port, "/api/v1/tree").status == 200); // reads still work
  CHECK(instance_of(home, "svc#0")["pid"] == pid);
}

TEST_CASE("web: without [web] nothing listens and no token is made") {
  temp_dir d;
  auto home = d.file("home");
  daemon_guard guard{home};
  up_with(home, d.file("arbor.toml"), one_app);
  CHECK(::access((home + "/web.token").c_str(), F_OK) != 0);
  CHECK(daemon_maps(home).find("libarbor-http.so") == std::string::npos);
  CHECK(run_arbor({"down"}, home).rc == 0);
}

TEST_CASE("web: a group's tree node says how much of its restart intensity is used") {
  web_daemon w{"", "[g]\nintensity = 3\nperiod = 60\n[g.svc]\nargs = [\"" ARBOR_TEST_CHILD "\", \"sleep\"]\n",
               "g.svc#0"};
  auto group = [&] { return get(w.port, "/api/v1/tree").body["result"]["root"]["children"][0]; };
  CHECK(group()["intensity"] == json{{"used", 0}, {"max", 3}, {"period_s", 60}});
  CHECK(get(w.port, "/api/v1/tree").body["result"]["root"]["intensity"].is_null()); // no limit
  int pid = instance_of(w.home, "g.svc#0")["pid"];
  REQUIRE(signal_if_of_home(pid, w.home, SIGKILL));
  CHECK(eventually([&] { return group()["intensity"]["used"] == 1; }));
}
