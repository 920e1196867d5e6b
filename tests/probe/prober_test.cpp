#include "probe/prober.hpp"
#include "test_servers.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

using namespace arbor;
using namespace arbor::probe;
using namespace std::chrono_literals;
using probe_test::http_server;
using probe_test::tcp_listener;
using kind = health_check_spec::kind;

namespace {

/// Collects one result; wait() is bounded.
struct result_box {
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<probe_result> result;
  prober::callback callback() {
    return [this](const probe_result& r) {
      std::lock_guard<std::mutex> lk(mtx);
      result = r;
      cv.notify_all();
    };
  }
  bool wait(std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> lk(mtx);
    return cv.wait_for(lk, limit, [this] { return result.has_value(); });
  }
  bool has() {
    std::lock_guard<std::mutex> lk(mtx);
    return result.has_value();
  }
};

health_check_spec spec_of(kind k, std::string target, std::chrono::milliseconds timeout = 2000ms) {
  health_check_spec s;
  s.type = k;
  s.target = std::move(target);
  s.timeout = timeout;
  return s;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

probe_result pass() { return {true, "HTTP 200", 1ms}; }
probe_result fail() { return {false, "HTTP 500", 1ms}; }

} // namespace

TEST_CASE("run_check: expands {port}/{instance} and dispatches on the kind") {
  tcp_listener l;
  auto s = spec_of(kind::tcp, "127.0.0.1:{port}");
  CHECK(run_check(s, l.port, 0).ok);
  auto e = spec_of(kind::exec, "test {instance} = 3");
  CHECK(run_check(e, 0, 3).ok);
  CHECK_FALSE(run_check(e, 0, 4).ok);
  CHECK(run_check(health_check_spec{}, 0, 0).ok);
}

TEST_CASE("prober: runs a check and reports it on a worker") {
  http_server srv;
  prober p;
  result_box box;
  auto id = p.submit(spec_of(kind::http, "http://127.0.0.1:{port}/ok"),
                     static_cast<uint16_t>(srv.port), 0, box.callback());
  CHECK(id > 0);
  REQUIRE(box.wait());
  CHECK(box.result->ok);
  CHECK(box.result->detail == "HTTP 200");
  result_box second;
  CHECK(p.submit(spec_of(kind::exec, "false"), 0, 0, second.callback()) > id);
  REQUIRE(second.wait());
  CHECK(second.result->detail == "exit(1)");
}

TEST_CASE("prober: a hung endpoint does not block a check on the other worker") {
  http_server srv;
  tcp_listener l;
  prober p(2);
  result_box hung, quick;
  p.submit(spec_of(kind::http, srv.url("/hang"), 5000ms), 0, 0, hung.callback());
  p.submit(spec_of(kind::tcp, "127.0.0.1:" + std::to_string(l.port)), 0, 0, quick.callback());
  REQUIRE(quick.wait(3000ms));
  CHECK(quick.result->ok);
  CHECK_FALSE(hung.has()); // still waiting on the endpoint
  srv.release();
  REQUIRE(hung.wait());
  CHECK(hung.result->ok);
}

TEST_CASE("prober: past the queue limit a check is rejected as busy at once") {
  http_server srv;
  prober p(1, 1);
  result_box hung, queued, rejected;
  p.submit(spec_of(kind::http, srv.url("/hang"), 5000ms), 0, 0, hung.callback());
  REQUIRE(wait_until([&] { return p.queued() == 0; })); // the worker took it
  p.submit(spec_of(kind::exec, "true"), 0, 0, queued.callback());
  CHECK(p.queued() == 1);
  p.submit(spec_of(kind::exec, "true"), 0, 0, rejected.callback());
  REQUIRE(rejected.has()); // called before submit returned
  CHECK_FALSE(rejected.result->ok);
  CHECK(rejected.result->detail == "prober busy");
  srv.release();
  REQUIRE(hung.wait());
  REQUIRE(queued.wait());
  CHECK(queued.result->ok);
}

TEST_CASE("prober: the destructor drops queued checks and waits only for those in flight") {
  std::atomic<int> queued_calls{0};
  result_box in_flight;
  auto start = std::chrono::steady_clock::now();
  {
    prober p(1);
    p.submit(spec_of(kind::exec, "sleep 10", 300ms), 0, 0, in_flight.callback());
    REQUIRE(wait_until([&] { return p.queued() == 0; }));
    for (int i = 0; i < 3; ++i)
      p.submit(spec_of(kind::exec, "true"), 0, 0, [&](const probe_result&) { ++queued_calls; });
  }
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 3s);
  REQUIRE(in_flight.has());
  CHECK(in_flight.result->detail == "timed out after 300ms");
  CHECK(queued_calls == 0);
}

TEST_CASE("prober: an exception thrown by a callback does not kill the worker") {
  prober p(1);
  p.submit(spec_of(kind::exec, "true"), 0, 0, [](const probe_result&) { throw 42; });
  result_box box;
  p.submit(spec_of(kind::exec, "true"), 0, 0, box.callback());
  REQUIRE(box.wait());
  CHECK(box.result->ok);
}

// --- health_state --------------------------------------------------------------

namespace {
health_check_spec policy_spec(std::chrono::milliseconds interval, uint32_t failures,
                              std::chrono::milliseconds start_period = 0ms) {
  health_check_spec s;
  s.type = kind::http;
  s.target = "http://127.0.0.1:{port}/";
  s.interval = interval;
  s.failures = failures;
  s.start_period = start_period;
  return s;
}
using tp = health_state::time_point;
} // namespace

TEST_CASE("health_state: startup polls 10 ms doubling to 250 ms, then the interval") {
  tp t0{};
  health_state h(policy_spec(10s, 3), t0);
  std::vector<long> delays;
  auto now = t0;
  for (int i = 0; i < 7; ++i) {
    delays.push_back(static_cast<long>(h.next_delay().count()));
    now += h.next_delay();
    CHECK(h.record(fail(), now) == health_event::none);
  }
  CHECK(delays == std::vector<long>{10, 20, 40, 80, 160, 250, 250});
  CHECK_FALSE(h.ready());
  CHECK(h.record(pass(), now + 250ms) == health_event::became_ready);
  CHECK(h.ready());
  CHECK(h.next_delay() == 10s);
  CHECK(h.record(pass(), now + 10s) == health_event::none);
}

TEST_CASE("health_state: once ready, `failures` consecutive failures mean unhealthy, once") {
  tp t0{};
  health_state h(policy_spec(1s, 3), t0);
  REQUIRE(h.record(pass(), t0 + 10ms) == health_event::became_ready);
  auto t = t0 + 10ms;
  CHECK(h.record(fail(), t += 1s) == health_event::none);
  CHECK(h.record(fail(), t += 1s) == health_event::none);
  CHECK(h.record(pass(), t += 1s) == health_event::none); // streak broken
  CHECK(h.consecutive_failures() == 0);
  CHECK(h.record(fail(), t += 1s) == health_event::none);
  CHECK(h.record(fail(), t += 1s) == health_event::none);
  CHECK(h.record(fail(), t += 1s) == health_event::unhealthy);
  CHECK(h.consecutive_failures() == 3);
  CHECK(h.last_detail() == "HTTP 500");
  CHECK(h.record(fail(), t += 1s) == health_event::none); // reported already
  CHECK(h.ready());
}

TEST_CASE("health_state: failures inside start_period never count") {
  tp t0{};
  health_state h(policy_spec(1s, 1, 5s), t0);
  REQUIRE(h.record(pass(), t0 + 100ms) == health_event::became_ready);
  CHECK(h.record(fail(), t0 + 2s) == health_event::none);
  CHECK(h.record(fail(), t0 + 4900ms) == health_event::none);
  CHECK(h.consecutive_failures() == 0);
  CHECK(h.record(fail(), t0 + 5s) == health_event::unhealthy);
}

TEST_CASE("health_state: tight startup polling does not hasten an unhealthy verdict") {
  tp t0{};
  health_state h(policy_spec(1s, 3), t0);
  auto t = t0;
  // never ready: probes every <= 250 ms, but failures count once per interval,
  // the first at t0 + interval
  health_event last = health_event::none;
  int unhealthy_at_ms = -1;
  while (t < t0 + 10s) {
    t += h.next_delay();
    last = h.record(fail(), t);
    if (last == health_event::unhealthy) {
      unhealthy_at_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count());
      break;
    }
  }
  REQUIRE(last == health_event::unhealthy);
  CHECK(unhealthy_at_ms >= 3000);
  CHECK(unhealthy_at_ms < 3300);
}

TEST_CASE("health_state: start_period longer than the interval delays counting before ready") {
  tp t0{};
  health_state h(policy_spec(1s, 1, 4s), t0);
  CHECK(h.record(fail(), t0 + 3999ms) == health_event::none);
  CHECK(h.record(fail(), t0 + 4s) == health_event::unhealthy);
}

TEST_CASE("health_state: reset starts a new run: not ready, tight polling, no failures") {
  tp t0{};
  health_state h(policy_spec(1s, 2), t0);
  REQUIRE(h.record(pass(), t0 + 10ms) == health_event::became_ready);
  h.record(fail(), t0 + 2s);
  auto t1 = t0 + 3s;
  h.reset(t1);
  CHECK_FALSE(h.ready());
  CHECK(h.consecutive_failures() == 0);
  CHECK(h.next_delay() == 10ms);
  CHECK(h.record(pass(), t1 + 10ms) == health_event::became_ready);
}

TEST_CASE("health_state: failures = 0 is taken as 1") {
  tp t0{};
  health_state h(policy_spec(1s, 0), t0);
  REQUIRE(h.record(pass(), t0) == health_event::became_ready);
  CHECK(h.record(fail(), t0 + 1s) == health_event::unhealthy);
}
