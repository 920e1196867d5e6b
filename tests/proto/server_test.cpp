#include <catch2/catch.hpp>

#include "proto/client.hpp"
#include "proto/protocol.hpp"
#include "proto/server.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace arbor::proto;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr int wait_ms = 10000; // bound on every wait; tests normally take far less

/// A fresh directory under /tmp that other users may traverse (0711), so a
/// child running as nobody reaches the socket and only its mode decides.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/arbor-proto-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
    REQUIRE(::chmod(path.c_str(), 0711) == 0);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof addr.sun_path - 1));
  return addr;
}

/// Connects a plain blocking socket; -errno on failure.
int connect_raw(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  auto addr = address_of(path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

/// A raw connection for writing exact bytes and reading exact lines.
struct raw_conn {
  int fd = -1;
  std::string buf;

  explicit raw_conn(const std::string& path) {
    fd = connect_raw(path);
    REQUIRE(fd >= 0);
  }
  explicit raw_conn(int accepted) : fd(accepted) {}
  raw_conn(const raw_conn&) = delete;
  raw_conn& operator=(const raw_conn&) = delete;
  ~raw_conn() {
    if (fd >= 0)
      ::close(fd);
  }

  bool write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// The next line without its '\n'; nullopt on EOF, error or timeout.
  std::optional<std::string> read_line(int timeout_ms = wait_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char chunk[65536];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0)
        return std::nullopt;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }

  response read_response(int timeout_ms = wait_ms) {
    auto line = read_line(timeout_ms);
    REQUIRE(line);
    std::string err;
    auto r = decode_response(*line, err);
    INFO(err << " in " << *line);
    REQUIRE(r);
    return *r;
  }

  /// Whether the peer closed (EOF or reset) within the timeout, skipping data.
  bool closed_by_peer(int timeout_ms = wait_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char chunk[65536];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
        return true;
      if (n < 0 && errno != EINTR)
        return false;
    }
  }
};

std::string request_line(uint64_t id, const std::string& cmd, const json& args = json::object()) {
  request r;
  r.id = id;
  r.cmd = cmd;
  r.args = args;
  return encode_request(r);
}

/// A control_server with a small scripted daemon behind it:
///   ping → {"pong":true}; echo → args; stream {n} → n items then ok;
///   flood {size} → items from another thread until the connection is gone;
///   silent → no reply; bye → ok, then close_after_flush; else unknown_command.
struct test_daemon {
  temp_dir dir;
  std::string sock = dir.path + "/arbor.sock";
  std::unique_ptr<control_server> server;

  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::pair<uint64_t, request>> requests;
  std::vector<uint64_t> closed;
  std::vector<std::string> notices;
  std::vector<std::thread> workers;
  bool stopping = false;
  std::atomic<control_server*> srv{nullptr};

  explicit test_daemon(server_options opts = {}) { start(opts); }

  ~test_daemon() {
    std::vector<std::thread> ws;
    {
      std::lock_guard<std::mutex> guard{mtx};
      stopping = true;
      ws.swap(workers);
    }
    cv.notify_all();
    for (auto& w : ws)
      w.join();
    server.reset();
  }

  void start(server_options opts = {}) {
    control_server::handlers h;
    h.on_request = [this](uint64_t conn, request req) { handle(conn, std::move(req)); };
    h.on_close = [this](uint64_t conn) {
      std::lock_guard<std::mutex> guard{mtx};
      closed.push_back(conn);
      cv.notify_all();
    };
    h.on_notice = [this](const std::string& text) {
      std::lock_guard<std::mutex> guard{mtx};
      notices.push_back(text);
    };
    server = std::make_unique<control_server>(sock, std::move(h), opts);
    srv = server.get();
  }

  void handle(uint64_t conn, request req) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      requests.emplace_back(conn, req);
      cv.notify_all();
    }
    control_server& s = *srv.load();
    if (req.cmd == "ping") {
      s.send(conn, encode_ok(req.id, {{"pong", true}}));
    } else if (req.cmd == "echo") {
      s.send(conn, encode_ok(req.id, req.args));
    } else if (req.cmd == "stream") {
      int n = req.args.value("n", 0);
      for (int i = 0; i < n; ++i)
        s.send(conn, encode_item(req.id, {{"seq", i}}));
      s.send(conn, encode_ok(req.id, {{"sent", n}}));
    } else if (req.cmd == "flood") {
      size_t size = req.args.value("size", size_t{4096});
      std::lock_guard<std::mutex> guard{mtx};
      if (!stopping)
        workers.emplace_back([this, conn, id = req.id, size] { flood(conn, id, size); });
    } else if (req.cmd == "bye") {
      s.send(conn, encode_ok(req.id, {{"bye", true}}));
      s.close_after_flush(conn);
    } else if (req.cmd != "silent") {
      s.send(conn, encode_error(req.id, "unknown_command", "unknown command '" + req.cmd + "'"));
    }
  }

  /// Sends items as fast as it can, like `events -f` to a client that never
  /// reads, until the server drops the connection (bounded at 256 MiB).
  void flood(uint64_t conn, uint64_t id, size_t size) {
    json item = {{"blob", std::string(size, 'x')}};
    std::string line = encode_item(id, item);
    for (size_t total = 0; total < (256u << 20); total += line.size()) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        if (stopping || std::count(closed.begin(), closed.end(), conn) > 0)
          return;
      }
      srv.load()->send(conn, line);
    }
  }

  template <class Pred>
  bool wait_until(Pred pred,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(wait_ms)) {
    std::unique_lock<std::mutex> lock{mtx};
    return cv.wait_for(lock, timeout, pred);
  }

  bool wait_closed(uint64_t conn) {
    return wait_until([&] { return std::count(closed.begin(), closed.end(), conn) > 0; });
  }

  /// The connection id of the first request with this command (waits for it).
  uint64_t conn_of(const std::string& cmd) {
    uint64_t conn = 0;
    bool found = wait_until([&] {
      for (auto& [c, r] : requests)
        if (r.cmd == cmd) {
          conn = c;
          return true;
        }
      return false;
    });
    REQUIRE(found);
    return conn;
  }

  size_t requests_of(uint64_t conn) {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<size_t>(std::count_if(requests.begin(), requests.end(),
                                             [&](const auto& r) { return r.first == conn; }));
  }

  size_t close_count(uint64_t conn) {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<size_t>(std::count(closed.begin(), closed.end(), conn));
  }

  std::vector<uint64_t> closed_now() {
    std::lock_guard<std::mutex> guard{mtx};
    return closed;
  }
};

std::unique_ptr<client> connect_client(const std::string& path) {
  std::string err;
  auto c = client::connect(path, err);
  INFO(err);
  REQUIRE(c);
  return c;
}

response call_ok(client& c, const std::string& cmd, const json& args = json::object(),
                 int timeout_ms = wait_ms) {
  request r;
  r.cmd = cmd;
  r.args = args;
  std::string err;
  auto resp = c.call(r, err, timeout_ms);
  INFO(err);
  REQUIRE(resp);
  return *resp;
}

/// Runs `body` in a forked child as uid/gid 65534 (nobody) and returns what
/// it printed (through a pipe). The child is bounded by alarm().
std::string run_as_nobody(const std::function<std::string()>& body) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    ::alarm(20);
    std::string out;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0
        || ::setresuid(65534, 65534, 65534) != 0)
      out = "setresuid failed";
    else
      out = body();
    const char* data = out.data();
    size_t left = out.size();
    while (left > 0) {
      ssize_t n = ::write(p[1], data, left);
      if (n <= 0)
        break;
      data += n;
      left -= static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  for (;;) {
    pollfd pfd{p[0], POLLIN, 0};
    if (::poll(&pfd, 1, 30000) <= 0)
      break;
    char chunk[4096];
    ssize_t n = ::read(p[0], chunk, sizeof chunk);
    if (n <= 0)
      break;
    out.append(chunk, static_cast<size_t>(n));
  }
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  return out;
}

/// A socket file with nobody listening: what a crashed daemon leaves behind.
void make_stale_socket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  auto addr = address_of(path);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  REQUIRE(S_ISSOCK(st.st_mode));
}

/// A pretend daemon for client tests: accepts one connection and runs
/// `script` on it (on its own thread, every wait bounded).
struct fake_daemon {
  int listen_fd = -1;
  std::thread thread;

  fake_daemon(const std::string& path, std::function<void(raw_conn&)> script) {
    listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd >= 0);
    auto addr = address_of(path);
    REQUIRE(::bind(listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd, 4) == 0);
    thread = std::thread([this, script = std::move(script)] {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, wait_ms) != 1)
        return;
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        return;
      raw_conn conn{fd};
      script(conn);
    });
  }
  ~fake_daemon() {
    thread.join();
    ::close(listen_fd);
  }
};

} // namespace

TEST_CASE("proto::control_server: a request reaches on_request and the reply reaches the client",
          "[server]") {
  test_daemon d;
  struct stat st {};
  REQUIRE(::lstat(d.sock.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);

  auto c = connect_client(d.sock);
  auto r = call_ok(*c, "echo", {{"names", {"web.api"}}});
  CHECK(r.type == response::kind::ok);
  CHECK(r.id == 1);
  CHECK(r.result == json{{"names", {"web.api"}}});

  std::lock_guard<std::mutex> guard{d.mtx};
  REQUIRE(d.requests.size() == 1);
  CHECK(d.requests[0].second.cmd == "echo");
  CHECK(d.requests[0].second.id == 1);
  CHECK(d.requests[0].first > 0);
}

TEST_CASE("proto::control_server: many requests on one connection, in order", "[server]") {
  test_daemon d;
  auto c = connect_client(d.sock);
  for (int i = 0; i < 500; ++i) {
    auto r = call_ok(*c, "echo", {{"i", i}});
    REQUIRE(r.type == response::kind::ok);
    REQUIRE(r.id == static_cast<uint64_t>(i + 1));
    REQUIRE(r.result == json{{"i", i}});
  }

  // Pipelined: 200 requests in one write, 200 replies back in order.
  raw_conn raw{d.sock};
  std::string batch;
  for (uint64_t i = 1; i <= 200; ++i)
    batch += request_line(i, "ping");
  REQUIRE(raw.write(batch));
  for (uint64_t i = 1; i <= 200; ++i) {
    auto r = raw.read_response();
    REQUIRE(r.type == response::kind::ok);
    REQUIRE(r.id == i);
  }
}

TEST_CASE("proto::control_server: two clients at once are served side by side", "[server]") {
  test_daemon d;
  std::atomic<int> good{0};
  auto worker = [&](int who) {
    std::string err;
    auto c = client::connect(d.sock, err);
    if (!c)
      return;
    for (int i = 0; i < 300; ++i) {
      request r;
      r.cmd = "echo";
      r.args = {{"who", who}, {"i", i}};
      auto resp = c->call(r, err, wait_ms);
      if (!resp || resp->type != response::kind::ok || resp->result != r.args)
        return;
    }
    ++good;
  };
  std::thread a{worker, 1};
  std::thread b{worker, 2};
  a.join();
  b.join();
  CHECK(good == 2);

  std::lock_guard<std::mutex> guard{d.mtx};
  REQUIRE(d.requests.size() == 600);
  std::vector<uint64_t> conns;
  for (auto& [conn, req] : d.requests)
    if (std::find(conns.begin(), conns.end(), conn) == conns.end())
      conns.push_back(conn);
  CHECK(conns.size() == 2);
}

TEST_CASE("proto::control_server: a garbage line gets an error and the connection stays usable",
          "[server]") {
  test_daemon d;
  raw_conn raw{d.sock};
  REQUIRE(raw.write("hello\n"));
  auto garbage = raw.read_response();
  CHECK(garbage.type == response::kind::error);
  CHECK(garbage.id == 0);
  CHECK(garbage.error_code == "bad_request");
  CHECK(garbage.error_message
        == "request is not valid JSON: syntax error at byte 1 (invalid literal)");

  REQUIRE(raw.write(request_line(5, "ping")));
  auto pong = raw.read_response();
  CHECK(pong.type == response::kind::ok);
  CHECK(pong.id == 5);
  CHECK(pong.result == json{{"pong", true}});

  // CRLF line ends are tolerated; other decode errors carry the id.
  REQUIRE(raw.write("{\"v\":1,\"id\":6,\"cmd\":\"ping\"}\r\n"));
  CHECK(raw.read_response().id == 6);
  REQUIRE(raw.write("{\"v\":2,\"id\":7,\"cmd\":\"ping\"}\n"));
  auto v2 = raw.read_response();
  CHECK(v2.id == 7);
  CHECK(v2.error_code == "unsupported_version");
  REQUIRE(raw.write("{\"v\":1,\"id\":8,\"cmd\":\"nope\"}\n"));
  auto unknown = raw.read_response();
  CHECK(unknown.id == 8);
  CHECK(unknown.error_code == "unknown_command");
  REQUIRE(raw.write("\n"));
  CHECK(raw.read_response().error_message == "request line is empty");

  std::lock_guard<std::mutex> guard{d.mtx};
  CHECK(d.requests.size() == 3); // ping, ping, nope: malformed lines never reach on_request
  CHECK(d.closed.empty());
}

TEST_CASE("proto::control_server: truncated JSON then a newline is a bad_request with its id",
          "[server]") {
  test_daemon d;
  raw_conn raw{d.sock};
  REQUIRE(raw.write(R"({"v":1,"id":3,"cmd":"st)"));
  REQUIRE(raw.write("\n"));
  auto r = raw.read_response();
  CHECK(r.type == response::kind::error);
  CHECK(r.id == 3);
  CHECK(r.error_code == "bad_request");
  CHECK_THAT(r.error_message, Catch::StartsWith("request is not valid JSON: syntax error at byte"));
  REQUIRE(raw.write(request_line(4, "ping")));
  CHECK(raw.read_response().id == 4);
}

TEST_CASE("proto::control_server: a line of exactly max_line passes, one byte more is too_large",
          "[server]") {
  server_options opts;
  opts.max_line = 1024;
  test_daemon d{opts};

  auto line_of = [](uint64_t id, size_t size) {
    std::string head = request_line(id, "echo", {{"p", ""}});
    head.pop_back(); // '\n'
    std::string pad(size - head.size(), 'x');
    std::string line = request_line(id, "echo", {{"p", pad}});
    line.pop_back();
    REQUIRE(line.size() == size);
    return line;
  };

  raw_conn raw{d.sock};
  REQUIRE(raw.write(line_of(1, 1024) + "\n"));
  CHECK(raw.read_response().type == response::kind::ok);
  REQUIRE(raw.write(line_of(2, 1024) + "\r\n"));
  CHECK(raw.read_response().type == response::kind::ok);
  REQUIRE(raw.write(line_of(3, 1025) + "\n"));
  auto r = raw.read_response();
  CHECK(r.error_code == "too_large");
  CHECK(r.id == 3); // read from the start of the line
  CHECK(r.error_message == "request line exceeds 1024 bytes");
  CHECK(raw.closed_by_peer());
}

TEST_CASE("proto::control_server: a 10 MB line is refused early, others are served meanwhile",
          "[server]") {
  test_daemon d;
  raw_conn flood{d.sock};
  timeval tv{10, 0}; // bounds the writer should the server stop reading without closing
  REQUIRE(::setsockopt(flood.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);

  constexpr size_t total = 10u << 20;
  std::atomic<size_t> written{0};
  std::atomic<int> write_errno{0};
  std::thread writer([&] {
    std::string chunk(64 * 1024, 'x');
    std::string head = R"({"v":1,"id":77,"cmd":"echo","args":{"blob":")";
    std::copy(head.begin(), head.end(), chunk.begin());
    while (written < total) {
      ssize_t n = ::send(flood.fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        write_errno = errno;
        return;
      }
      written += static_cast<size_t>(n);
    }
  });

  // Another client is answered while the flood is on.
  auto c = connect_client(d.sock);
  auto pong = call_ok(*c, "ping", json::object(), 5000);
  CHECK(pong.result == json{{"pong", true}});

  writer.join();
  INFO("written " << written << " bytes, errno " << write_errno);
  CHECK(write_errno != 0);          // the server hung up on the writer...
  CHECK(written < total);           // ...before it could send it all...
  CHECK(written < (4u << 20));      // ...within max_line + one read + socket buffers

  auto r = flood.read_response();
  CHECK(r.type == response::kind::error);
  CHECK(r.error_code == "too_large");
  CHECK(r.id == 77);
  CHECK(flood.closed_by_peer());

  // The flooder was closed (and reported); the other client is still served.
  CHECK(d.wait_until([&] { return d.closed.size() == 1; }));
  CHECK(call_ok(*c, "ping").type == response::kind::ok);
  std::lock_guard<std::mutex> guard{d.mtx};
  for (auto& [conn, req] : d.requests)
    CHECK(req.cmd == "ping");
}

TEST_CASE("proto::control_server: a client that never reads is dropped past max_outbound",
          "[server]") {
  server_options opts;
  opts.max_outbound = 256 * 1024;
  test_daemon d{opts};

  raw_conn deaf{d.sock};
  REQUIRE(deaf.write(request_line(1, "flood", {{"size", 4096}})));
  uint64_t deaf_conn = d.conn_of("flood");

  // While the flood fills its queue, another client is served promptly.
  auto c = connect_client(d.sock);
  auto pong = call_ok(*c, "ping", json::object(), 5000);
  CHECK(pong.result == json{{"pong", true}});

  REQUIRE(d.wait_closed(deaf_conn));
  CHECK(d.close_count(deaf_conn) == 1);
  CHECK(deaf.closed_by_peer()); // whatever was in flight, then the end

  CHECK(call_ok(*c, "ping").type == response::kind::ok);
  CHECK(d.closed_now() == std::vector<uint64_t>{deaf_conn});
}

TEST_CASE("proto::control_server: stream items reach on_item, then the final reply", "[server]") {
  test_daemon d;
  auto c = connect_client(d.sock);
  request r;
  r.cmd = "stream";
  r.args = {{"n", 100}};
  std::vector<int> seen;
  std::string err;
  auto resp = c->call(r, err, wait_ms, [&](const json& item) {
    seen.push_back(item.at("seq").get<int>());
    return true;
  });
  INFO(err);
  REQUIRE(resp);
  CHECK(resp->type == response::kind::ok);
  CHECK(resp->result == json{{"sent", 100}});
  REQUIRE(seen.size() == 100);
  for (int i = 0; i < 100; ++i)
    CHECK(seen[static_cast<size_t>(i)] == i);
  // Without on_item, items are skipped.
  CHECK(call_ok(*c, "stream", {{"n", 3}}).result == json{{"sent", 3}});
}

TEST_CASE("proto::control_server: on_item returning false ends the call and the connection",
          "[server]") {
  test_daemon d;
  auto c = connect_client(d.sock);
  request r;
  r.cmd = "stream";
  r.args = {{"n", 50}};
  int seen = 0;
  std::string err;
  auto resp = c->call(r, err, wait_ms, [&](const json&) { return ++seen < 3; });
  REQUIRE(resp);
  CHECK(resp->type == response::kind::ok);
  CHECK(resp->id == 1);
  CHECK(seen == 3);
  CHECK(d.wait_closed(d.conn_of("stream")));

  auto again = c->call(r, err, wait_ms);
  CHECK_FALSE(again);
  CHECK(err == "the connection to the daemon is closed");
}

TEST_CASE("proto::control_server: a client disconnecting is reported once", "[server]") {
  test_daemon d;
  uint64_t conn = 0;
  {
    auto c = connect_client(d.sock);
    call_ok(*c, "ping");
    conn = d.conn_of("ping");
  }
  REQUIRE(d.wait_closed(conn));
  // A later client has a new id, and the first is not reported again.
  auto c = connect_client(d.sock);
  call_ok(*c, "echo");
  CHECK(d.conn_of("echo") > conn);
  CHECK(d.close_count(conn) == 1);
}

TEST_CASE("proto::control_server: close_after_flush delivers the reply, then closes", "[server]") {
  test_daemon d;
  raw_conn raw{d.sock};
  REQUIRE(raw.write(request_line(9, "bye")));
  auto r = raw.read_response();
  CHECK(r.id == 9);
  CHECK(r.result == json{{"bye", true}});
  CHECK(raw.closed_by_peer());
  CHECK(d.wait_closed(d.conn_of("bye")));
}

TEST_CASE("proto::control_server: shutdown delivers queued replies, closes and removes the socket",
          "[server]") {
  test_daemon d;
  raw_conn raw{d.sock};
  REQUIRE(raw.write(request_line(1, "silent")));
  uint64_t silent = d.conn_of("silent");
  auto c = connect_client(d.sock);
  call_ok(*c, "ping");
  uint64_t pinger = d.conn_of("ping");

  // A reply queued right before the server goes still goes out.
  d.server->send(silent, encode_ok(1, {{"stopping", true}}));
  d.server.reset();

  auto closed = d.closed_now(); // on_close ran on the server thread before the join
  std::sort(closed.begin(), closed.end());
  CHECK(closed == std::vector<uint64_t>{std::min(silent, pinger), std::max(silent, pinger)});
  auto r = raw.read_response();
  CHECK(r.id == 1);
  CHECK(r.result == json{{"stopping", true}});
  CHECK(raw.closed_by_peer());

  struct stat st {};
  CHECK(::lstat(d.sock.c_str(), &st) != 0);
  CHECK(errno == ENOENT);

  request ping;
  ping.cmd = "ping";
  std::string err;
  CHECK_FALSE(c->call(ping, err, wait_ms));
  CHECK(err == "the daemon closed the connection");
}

TEST_CASE("proto::control_server: send to a closed or unknown connection is a no-op", "[server]") {
  test_daemon d;
  d.server->send(12345, encode_ok(1, json::object()));
  d.server->close_after_flush(12345);
  auto c = connect_client(d.sock);
  CHECK(call_ok(*c, "ping").type == response::kind::ok);
}

TEST_CASE("proto::control_server: a stale socket file is replaced, other files are not",
          "[server]") {
  temp_dir dir;
  std::string path = dir.path + "/arbor.sock";
  make_stale_socket(path);
  {
    std::string err;
    CHECK_FALSE(client::connect(path, err));
    CHECK(err == "no arbor daemon is running (stale socket at " + path
                   + "); start one with `arbor up`");
  }
  {
    std::atomic<int> seen{0};
    control_server::handlers h;
    control_server* self = nullptr;
    h.on_request = [&](uint64_t conn, request req) {
      ++seen;
      self->send(conn, encode_ok(req.id, json::object()));
    };
    control_server s{path, h};
    self = &s;
    auto c = connect_client(path);
    CHECK(call_ok(*c, "ping").type == response::kind::ok);
    CHECK(seen == 1);
  }
  struct stat st {};
  CHECK(::lstat(path.c_str(), &st) != 0);

  std::string file = dir.path + "/not-a-socket";
  std::ofstream{file} << "keep me\n";
  CHECK_THROWS_AS(control_server(file, control_server::handlers{}), std::system_error);
  CHECK(std::filesystem::file_size(file) == 8);
  std::string err;
  CHECK_FALSE(client::connect(file, err));
  CHECK(err == file + " is not a socket (is ARBOR_HOME right?)");
}

TEST_CASE("proto::client: connecting without a daemon says how to start one", "[client]") {
  temp_dir dir;
  std::string path = dir.path + "/arbor.sock";
  std::string err;
  CHECK_FALSE(client::connect(path, err));
  CHECK(err == "no arbor daemon is running (no socket at " + path + "); start one with `arbor up`");
  CHECK_FALSE(client::connect(std::string(200, 'x'), err));
  CHECK_THAT(err, Catch::StartsWith("socket path must be 1 to 107 bytes long"));
}

TEST_CASE("proto::client: a daemon that does not answer times out", "[client]") {
  test_daemon d;
  auto c = connect_client(d.sock);
  request r;
  r.cmd = "silent";
  std::string err;
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(c->call(r, err, 200));
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
  CHECK(err == "timed out after 200 ms waiting for the daemon");
}

TEST_CASE("proto::client: a too-large request gets the daemon's too_large error", "[client]") {
  test_daemon d;
  auto c = connect_client(d.sock);
  request r;
  r.cmd = "echo";
  r.args = {{"blob", std::string(2u << 20, 'x')}};
  std::string err;
  auto resp = c->call(r, err, wait_ms);
  INFO(err);
  REQUIRE(resp);
  CHECK(resp->type == response::kind::error);
  CHECK(resp->error_code == "too_large");
}

TEST_CASE("proto::client: garbage from the daemon is reported", "[client]") {
  temp_dir dir;
  std::string path = dir.path + "/fake.sock";
  fake_daemon fake{path, [](raw_conn& conn) {
                     if (conn.read_line())
                       conn.write("hello\n");
                   }};
  auto c = connect_client(path);
  request r;
  r.cmd = "ping";
  std::string err;
  CHECK_FALSE(c->call(r, err, wait_ms));
  CHECK(err
        == "garbage from the daemon: reply is not valid JSON: syntax error at byte 1 "
           "(invalid literal): \"hello\"");
}

TEST_CASE("proto::client: replies to other ids are skipped", "[client]") {
  temp_dir dir;
  std::string path = dir.path + "/fake.sock";
  fake_daemon fake{path, [](raw_conn& conn) {
                     auto line = conn.read_line();
                     if (!line)
                       return;
                     auto req = std::get<request>(decode_request(*line));
                     conn.write(encode_ok(req.id + 100, {{"stale", true}}));
                     conn.write(encode_item(req.id + 1, {{"stale", true}}));
                     conn.write(encode_ok(req.id, {{"mine", true}}));
                     conn.closed_by_peer();
                   }};
  auto c = connect_client(path);
  auto r = call_ok(*c, "ping");
  CHECK(r.result == json{{"mine", true}});
}

TEST_CASE("proto::client: a daemon hanging up mid-call is reported", "[client]") {
  temp_dir dir;
  std::string path = dir.path + "/fake.sock";
  fake_daemon fake{path, [](raw_conn& conn) { conn.read_line(); }};
  auto c = connect_client(path);
  request r;
  r.cmd = "ping";
  std::string err;
  CHECK_FALSE(c->call(r, err, wait_ms));
  CHECK(err == "the daemon closed the connection");
}

TEST_CASE("proto::control_server: another uid is refused by the socket mode or by SO_PEERCRED",
          "[server][uid]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to run a child as nobody (uid 65534)");
    return;
  }

  SECTION("mode 0600: nobody cannot even connect") {
    test_daemon d;
    std::string path = d.sock;
    std::string out = run_as_nobody([&] {
      int fd = connect_raw(path);
      std::string got = fd == -EACCES ? "EACCES" : "fd=" + std::to_string(fd);
      std::string err;
      auto c = client::connect(path, err);
      return got + "|" + (c ? "connected" : err);
    });
    CHECK(out == "EACCES|permission denied on " + path + " (owned by uid 0)");
    auto c = connect_client(d.sock);
    call_ok(*c, "ping");
    std::lock_guard<std::mutex> guard{d.mtx};
    CHECK(d.requests.size() == 1);
  }

  SECTION("mode 0666: nobody connects, gets forbidden and is closed") {
    server_options opts;
    opts.socket_mode = 0666;
    test_daemon d{opts};
    struct stat st {};
    REQUIRE(::lstat(d.sock.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0666);
    std::string path = d.sock;
    std::string out = run_as_nobody([&] {
      std::string got;
      int fd = connect_raw(path);
      if (fd < 0)
        return "connect failed: " + std::string(std::strerror(-fd));
      for (;;) { // everything until the server hangs up
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, wait_ms) != 1)
          return got + "<timeout>";
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
          break;
        got.append(chunk, static_cast<size_t>(n));
      }
      ::close(fd);
      // The client library shows the refusal as the call's error reply.
      std::string err;
      auto c = client::connect(path, err);
      if (!c)
        return got + "<client connect failed: " + err + ">";
      request r;
      r.cmd = "ping";
      auto resp = c->call(r, err, wait_ms);
      return got + (resp ? resp->error_code : "<" + err + ">");
    });
    auto nl = out.find('\n');
    REQUIRE(nl != std::string::npos);
    std::string err;
    auto r = decode_response(std::string_view{out}.substr(0, nl), err);
    INFO(out);
    REQUIRE(r);
    CHECK(r->type == response::kind::error);
    CHECK(r->id == 0);
    CHECK(r->error_code == "forbidden");
    CHECK(r->error_message == "uid 65534 may not use this daemon (it serves uid 0 and root)");
    CHECK(out.substr(nl + 1) == "forbidden");

    // Refused peers never reach the handlers: no request, no close. The ping
    // below is served after the refusals were handled (one thread, in order).
    auto c = connect_client(d.sock);
    call_ok(*c, "ping");
    std::lock_guard<std::mutex> guard{d.mtx};
    CHECK(d.requests.size() == 1);
    CHECK(d.closed.empty());
  }
}

// --- limits: pipelining, idle connections, the connection cap, descriptors ---

namespace {

/// `n` request lines of `cmd` with ids first..first+n-1.
std::string pipeline(const std::string& cmd, uint64_t first, size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i)
    text += request_line(first + i, cmd);
  return text;
}

server_options pipelined(uint32_t n) {
  server_options opts;
  opts.max_pipelined = n;
  return opts;
}

/// A round trip on a fresh connection: the server thread has worked off
/// what was readable before it.
void barrier(const std::string& sock) {
  auto c = connect_client(sock);
  CHECK(call_ok(*c, "ping").type == response::kind::ok);
}

} // namespace

TEST_CASE("proto::control_server: a connection has at most max_pipelined requests read ahead, "
          "a client that leaves has the rest dropped unread",
          "[server][limits]") {
  test_daemon d{pipelined(4)};
  raw_conn piped{d.sock};
  REQUIRE(piped.write(pipeline("silent", 1, 100)));
  uint64_t conn = d.conn_of("silent");
  REQUIRE(d.wait_until([&] { return d.requests.size() >= 4; }));
  for (int i = 0; i < 3; ++i)
    barrier(d.sock);
  CHECK(d.requests_of(conn) == 4);

  // Each final reply lets one more in; a stream item does not.
  d.server->send(conn, encode_item(1, {{"seq", 0}}));
  barrier(d.sock);
  CHECK(d.requests_of(conn) == 4);
  d.server->send(conn, encode_ok(1, json::object()));
  REQUIRE(d.wait_until([&] {
    return std::count_if(d.requests.begin(), d.requests.end(),
                         [&](const auto& r) { return r.first == conn; }) == 5;
  }));
  CHECK(piped.read_line());

  // The client leaves with 95 requests unread: they are never handed out.
  CHECK(d.server->is_open(conn));
  ::shutdown(piped.fd, SHUT_WR);
  REQUIRE(d.wait_closed(conn));
  CHECK_FALSE(d.server->is_open(conn));
  CHECK(d.requests_of(conn) == 5);
}

TEST_CASE("proto::control_server: pipelined requests answered at once all get their replies",
          "[server][limits]") {
  test_daemon d{pipelined(2)};
  raw_conn piped{d.sock};
  REQUIRE(piped.write(pipeline("ping", 1, 200)));
  for (uint64_t id = 1; id <= 200; ++id)
    CHECK(piped.read_response().id == id);
}

TEST_CASE("proto::control_server: a connection idle for idle_timeout is closed, a busy one is not",
          "[server][limits]") {
  server_options opts;
  opts.idle_timeout = 100ms;
  test_daemon d{opts};
  raw_conn busy{d.sock};
  REQUIRE(busy.write(request_line(1, "silent")));
  uint64_t busy_conn = d.conn_of("silent");
  raw_conn idle{d.sock};
  auto start = std::chrono::steady_clock::now();
  CHECK(idle.closed_by_peer());
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start);
  CHECK(took >= 100ms);
  CHECK(d.server->is_open(busy_conn)); // a request in progress keeps it
}

TEST_CASE("proto::control_server: past max_connections the idlest is closed, when all are busy "
          "a newcomer gets busy",
          "[server][limits]") {
  server_options opts;
  opts.max_connections = 3;
  test_daemon d{opts};
  std::vector<std::unique_ptr<raw_conn>> idle;
  for (uint64_t i = 1; i <= 3; ++i) {
    idle.push_back(std::make_unique<raw_conn>(d.sock));
    REQUIRE(idle.back()->write(request_line(i, "ping")));
    CHECK(idle.back()->read_response().id == i);
  }
  // A fourth: served, and the first (idle the longest) closed for it.
  raw_conn fourth{d.sock};
  REQUIRE(fourth.write(request_line(4, "ping")));
  CHECK(fourth.read_response().id == 4);
  CHECK(idle[0]->closed_by_peer());

  // Every connection busy: the newcomer is told so and closed.
  for (size_t i = 1; i < 3; ++i)
    REQUIRE(idle[i]->write(request_line(9, "silent")));
  REQUIRE(fourth.write(request_line(9, "silent")));
  REQUIRE(d.wait_until([&] { return d.requests.size() >= 7; }));
  raw_conn late{d.sock};
  auto refused = late.read_response();
  CHECK(refused.type == response::kind::error);
  CHECK(refused.error_code == "busy");
  CHECK(late.closed_by_peer());
}

TEST_CASE("proto::control_server: with descriptors short it keeps few connections and says so once",
          "[server][limits]") {
  server_options opts;
  opts.fd_reserve = size_t{1} << 40; // every descriptor counts as short
  opts.low_fd_connections = 1;
  test_daemon d{opts};
  raw_conn first{d.sock};
  REQUIRE(first.write(request_line(1, "silent")));
  d.conn_of("silent");
  for (int i = 0; i < 3; ++i) {
    raw_conn late{d.sock};
    auto r = late.read_response();
    CHECK(r.error_code == "busy");
  }
  std::lock_guard<std::mutex> guard{d.mtx};
  REQUIRE(d.notices.size() == 1);
  CHECK_THAT(d.notices[0], Catch::Contains("left for supervision; the control socket serves at "
                                           "most 1 connections"));
}

TEST_CASE("proto::client: a socket served by another uid is refused before anything is sent",
          "[client][uid]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to run a server as nobody (uid 65534)");
    return;
  }
  temp_dir dir;
  REQUIRE(::chmod(dir.path.c_str(), 0777) == 0);
  std::string path = dir.path + "/arbor.sock";
  int ready[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) { // a fake daemon as nobody: listens, and tells what it received
    ::alarm(20);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0
        || ::setresuid(65534, 65534, 65534) != 0)
      ::_exit(1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = address_of(path);
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0
        || ::listen(fd, 4) != 0)
      ::_exit(2);
    char one = 1;
    if (::write(ready[1], &one, 1) != 1)
      ::_exit(3);
    int c = ::accept(fd, nullptr, nullptr);
    char buf[64];
    ssize_t n = c >= 0 ? ::recv(c, buf, sizeof buf, 0) : -1;
    ::_exit(n == 0 ? 0 : 4); // 0: the client hung up without sending a byte
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  std::string err;
  auto c = client::connect(path, err);
  CHECK_FALSE(c);
  CHECK(err == "refusing the daemon at " + path + ": it runs as uid 65534, not as you (uid 0) "
                 "or root; check who owns ARBOR_HOME and stop that process");
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
