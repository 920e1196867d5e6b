#include "probe/probe.hpp"
#include "test_servers.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

using namespace arbor::probe;
using namespace std::chrono_literals;
using probe_test::closed_port;
using probe_test::http_server;
using probe_test::tcp_listener;

namespace {

std::string temp_file(const char* tag) {
  char buf[] = "/tmp/arbor-probe-XXXXXX";
  int fd = ::mkstemp(buf);
  REQUIRE(fd >= 0);
  ::close(fd);
  ::unlink(buf);
  return std::string{buf} + "." + tag;
}

pid_t read_pid(const std::string& path) {
  // the command writes it before sleeping; the check has returned by now
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

/// Gone or a zombie waiting for its new parent (init) to reap it.
bool gone(pid_t pid) {
  auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

} // namespace

TEST_CASE("expand: {port} and {instance} are replaced everywhere") {
  CHECK(expand("http://127.0.0.1:{port}/health?i={instance}", 8080, 3)
        == "http://127.0.0.1:8080/health?i=3");
  CHECK(expand("{port}{port}-{instance}", 1, 0) == "11-0");
  CHECK(expand("no placeholders {other} {port", 5, 6) == "no placeholders {other} {port");
  CHECK(expand("", 1, 2).empty());
}

TEST_CASE("check_http: 200 and 302 are ok, 500 is not") {
  http_server srv;
  auto r = check_http(srv.url("/ok"), 2000ms);
  CHECK(r.ok);
  CHECK(r.detail == "HTTP 200");
  auto redirect = check_http(srv.url("/redirect"), 2000ms);
  CHECK(redirect.ok);
  CHECK(redirect.detail == "HTTP 302");
  auto fail = check_http(srv.url("/fail"), 2000ms);
  CHECK_FALSE(fail.ok);
  CHECK(fail.detail == "HTTP 500");
  auto missing = check_http(srv.url("/nope"), 2000ms);
  CHECK_FALSE(missing.ok);
  CHECK(missing.detail == "HTTP 404");
}

TEST_CASE("check_http: a hung endpoint times out after the timeout") {
  http_server srv;
  auto start = std::chrono::steady_clock::now();
  auto r = check_http(srv.url("/hang"), 200ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(r.ok);
  CHECK(r.detail == "timed out after 200ms");
  CHECK(took >= 190ms);
  CHECK(took < 2s);
  CHECK(r.took >= 190ms);
}

TEST_CASE("check_http: a closed port fails fast, bad targets are refused") {
  auto r = check_http("http://127.0.0.1:" + std::to_string(closed_port()) + "/", 2000ms);
  CHECK_FALSE(r.ok);
  CHECK(r.detail.rfind("connect:", 0) == 0);
  CHECK(r.took < 1000ms);
  auto https = check_http("https://127.0.0.1/", 100ms);
  CHECK_FALSE(https.ok);
  CHECK(https.detail.rfind("bad target", 0) == 0);
  CHECK_FALSE(check_http("http://127.0.0.1:notaport/", 100ms).ok);
  CHECK_FALSE(check_http("http:///x", 100ms).ok);
}

TEST_CASE("check_tcp: a listener is ok, a closed port is refused") {
  tcp_listener l;
  auto r = check_tcp("127.0.0.1:" + std::to_string(l.port), 1000ms);
  CHECK(r.ok);
  auto refused = check_tcp("127.0.0.1:" + std::to_string(closed_port()), 1000ms);
  CHECK_FALSE(refused.ok);
  CHECK(refused.detail == "connect: Connection refused");
  CHECK(check_tcp("localhost:" + std::to_string(l.port), 1000ms).ok);
}

TEST_CASE("check_tcp: malformed targets are refused without connecting") {
  for (const char* t : {"127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:99999", "a:b:c", "[::1]80"}) {
    auto r = check_tcp(t, 100ms);
    CHECK_FALSE(r.ok);
    CHECK(r.detail.rfind("bad target", 0) == 0);
  }
}

TEST_CASE("check_exec: exit 0 is ok, anything else is not") {
  auto t = check_exec("true", 2000ms);
  CHECK(t.ok);
  CHECK(t.detail == "exit(0)");
  auto f = check_exec("false", 2000ms);
  CHECK_FALSE(f.ok);
  CHECK(f.detail == "exit(1)");
  auto code = check_exec("exit 7", 2000ms);
  CHECK(code.detail == "exit(7)");
  auto sig = check_exec("kill -SEGV $$", 2000ms);
  CHECK_FALSE(sig.ok);
  CHECK(sig.detail.rfind("signal(SIGSEGV", 0) == 0);
}

TEST_CASE("check_exec: a command past its timeout is killed with its group and reaped") {
  auto shell_pid_file = temp_file("sh");
  auto child_pid_file = temp_file("child");
  auto start = std::chrono::steady_clock::now();
  auto r = check_exec("echo $$ > " + shell_pid_file + "; sleep 10 & echo $! > " + child_pid_file
                        + "; wait",
                      200ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(r.ok);
  CHECK(r.detail == "timed out after 200ms");
  CHECK(took < 2s);
  pid_t sh = read_pid(shell_pid_file);
  pid_t sleeper = read_pid(child_pid_file);
  REQUIRE(sh > 0);
  REQUIRE(sleeper > 0);
  CHECK(gone(sh));
  CHECK(gone(sleeper));
  std::remove(shell_pid_file.c_str());
  std::remove(child_pid_file.c_str());
}

TEST_CASE("check_exec: plain 'sleep 10' with a 200 ms timeout times out") {
  auto r = check_exec("sleep 10", 200ms);
  CHECK_FALSE(r.ok);
  CHECK(r.detail == "timed out after 200ms");
  CHECK(r.took < 2000ms);
}
