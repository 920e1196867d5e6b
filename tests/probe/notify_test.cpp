#include "os/sd_notify.hpp"
#include "probe/notify_listener.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace arbor::probe;
using namespace std::chrono_literals;

namespace {

struct temp_dir {
  std::string path;
  temp_dir() {
    char buf[] = "/tmp/arbor-notify-XXXXXX";
    REQUIRE(::mkdtemp(buf) != nullptr);
    path = buf;
  }
  ~temp_dir() { ::rmdir(path.c_str()); } // empty by then, or the test failed
};

struct inbox {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<notify_message> messages;
  notify_listener::callback callback() {
    return [this](const notify_message& m) {
      std::lock_guard<std::mutex> lk(mtx);
      messages.push_back(m);
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> lk(mtx);
    return cv.wait_for(lk, limit, [&] { return messages.size() >= n; });
  }
};

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

} // namespace

TEST_CASE("parse_notify: KEY=VALUE lines, junk skipped, order kept") {
  auto f = parse_notify("READY=1\nSTATUS=listening on :8080\n\nnonsense\n=x\nMAINPID=42");
  REQUIRE(f.size() == 3);
  CHECK(f[0] == std::make_pair(std::string{"READY"}, std::string{"1"}));
  CHECK(f[1] == std::make_pair(std::string{"STATUS"}, std::string{"listening on :8080"}));
  CHECK(f[2] == std::make_pair(std::string{"MAINPID"}, std::string{"42"}));
  notify_message m;
  m.fields = parse_notify("STATUS=a\nSTATUS=b=c\nSTOPPING=1");
  REQUIRE(m.get("STATUS"));
  CHECK(*m.get("STATUS") == "b=c");
  CHECK(m.stopping());
  CHECK_FALSE(m.ready());
  CHECK(m.get("WATCHDOG") == nullptr);
}

TEST_CASE("notify_listener: READY=1 sent to the instance's socket reaches its callback") {
  temp_dir dir;
  inbox box;
  {
    notify_listener l(dir.path);
    std::string err;
    auto path = l.add("web.api#0", box.callback(), &err);
    REQUIRE(err.empty());
    REQUIRE(path == dir.path + "/web.api_0.sock");
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);

    REQUIRE(arbor::os::sd_notify(path, "READY=1"));
    REQUIRE(box.wait_for(1));
    CHECK(box.messages[0].ready());
    CHECK(box.messages[0].sender == ::getpid());
  }
  CHECK_FALSE(exists(dir.path + "/web.api_0.sock")); // the destructor unlinks
}

TEST_CASE("notify_listener: multiple lines and messages, per-instance sockets") {
  temp_dir dir;
  inbox a, b;
  notify_listener l(dir.path);
  auto pa = l.add("app#0", a.callback());
  auto pb = l.add("app#1", b.callback());
  REQUIRE_FALSE(pa.empty());
  REQUIRE_FALSE(pb.empty());
  CHECK(pa != pb);
  CHECK(l.size() == 2);
  REQUIRE(arbor::os::sd_notify(pa, "STATUS=warming up\nMAINPID=123\n"));
  REQUIRE(arbor::os::sd_notify(pb, "WATCHDOG=1"));
  REQUIRE(arbor::os::sd_notify(pa, "READY=1\nSTATUS=up"));
  REQUIRE(a.wait_for(2));
  REQUIRE(b.wait_for(1));
  CHECK(a.messages[0].fields.size() == 2);
  CHECK(*a.messages[0].get("MAINPID") == "123");
  CHECK(a.messages[1].ready());
  CHECK(*a.messages[1].get("STATUS") == "up");
  CHECK(b.messages.size() == 1);
  CHECK(*b.messages[0].get("WATCHDOG") == "1");
  l.remove("app#0");
  l.remove("app#1");
}

TEST_CASE("notify_listener: remove unlinks the socket and stops delivery") {
  temp_dir dir;
  inbox box;
  notify_listener l(dir.path);
  auto path = l.add("svc", box.callback());
  REQUIRE(exists(path));
  l.remove("svc");
  CHECK_FALSE(exists(path));
  CHECK(l.size() == 0);
  CHECK_FALSE(arbor::os::sd_notify(path, "READY=1"));
  l.remove("svc"); // unknown: ignored

  // re-adding the same key works and replaces a stale file
  auto again = l.add("svc", box.callback());
  CHECK(again == path);
  REQUIRE(arbor::os::sd_notify(again, "READY=1"));
  REQUIRE(box.wait_for(1));
  l.remove("svc");
  CHECK_FALSE(exists(path));
}

TEST_CASE("notify_listener: a callback may remove its own key") {
  temp_dir dir;
  notify_listener l(dir.path);
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  auto path = l.add("once", [&](const notify_message&) {
    l.remove("once");
    std::lock_guard<std::mutex> lk(mtx);
    done = true;
    cv.notify_all();
  });
  REQUIRE(arbor::os::sd_notify(path, "READY=1"));
  std::unique_lock<std::mutex> lk(mtx);
  REQUIRE(cv.wait_for(lk, 5s, [&] { return done; }));
  CHECK(l.size() == 0);
  CHECK_FALSE(exists(path));
}

TEST_CASE("notify_listener: a path too long for sockaddr_un is an error") {
  temp_dir dir;
  notify_listener l(dir.path);
  std::string err;
  CHECK(l.add(std::string(200, 'k'), [](const notify_message&) {}, &err).empty());
  CHECK(err.find("too long") != std::string::npos);
  CHECK(l.size() == 0);
}
