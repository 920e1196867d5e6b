#include <catch2/catch.hpp>

#include "http/http.hpp"
#include "test_servers.hpp"

#include <fstream>
#include <string>

#include <httplib.h>

using namespace arbor;
using namespace std::chrono_literals;

namespace {

/// Starts a server on a free port: the server, and its port in `port`.
http::server* serve(const http::module_api* api, const http::server_options& o, uint16_t& port) {
  std::string err;
  auto* s = api->serve(o, port, err);
  INFO(err);
  REQUIRE(s != nullptr);
  REQUIRE(port != 0);
  return s;
}

} // namespace

TEST_CASE("http module: found from the build tree, with the ABI this arbor wants") {
  std::string err;
  auto* api = http::module(&err);
  INFO(err);
  REQUIRE(api != nullptr);
  CHECK(api->abi == http::module_abi);
  CHECK(http::module_loaded());
  CHECK(http::module() == api); // loaded once
}

TEST_CASE("http module: a missing, broken or foreign file is refused with the reason") {
  std::string err;
  CHECK(http::load_module_from("/nonexistent/libarbor-http.so", err) == nullptr);
  CHECK(err == "/nonexistent/libarbor-http.so: not found");

  auto junk = std::string{"/tmp/arbor-http-junk-"} + std::to_string(::getpid()) + ".so";
  { std::ofstream(junk) << "not an ELF file\n"; }
  err.clear();
  CHECK(http::load_module_from(junk, err) == nullptr);
  CHECK(err.find(junk) != std::string::npos); // dlopen names the file
  ::unlink(junk.c_str());

  err.clear();
  CHECK(http::load_module_from(ARBOR_TEST_LIBM, err) == nullptr);
  CHECK(err == std::string{ARBOR_TEST_LIBM} + ": no arbor_http_module symbol");
}

TEST_CASE("http module: get() reports status, refused connections and timeouts") {
  auto* api = http::module();
  REQUIRE(api != nullptr);
  probe_test::http_server srv;
  auto port = static_cast<uint16_t>(srv.port);
  auto ok = api->get("127.0.0.1", port, "/ok", 2s);
  CHECK(ok.what == http::get_result::outcome::ok);
  CHECK(ok.status == 200);
  auto bad = api->get("127.0.0.1", port, "/fail", 2s);
  CHECK(bad.what == http::get_result::outcome::ok);
  CHECK(bad.status == 500);
  auto refused = api->get("127.0.0.1", probe_test::closed_port(), "/", 2s);
  CHECK(refused.what == http::get_result::outcome::connect_failed);
  auto t0 = std::chrono::steady_clock::now();
  auto hung = api->get("127.0.0.1", port, "/hang", 200ms);
  CHECK(hung.what == http::get_result::outcome::timed_out);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  srv.release();
}

TEST_CASE("http module: serve() answers its route, 404 elsewhere, stop() frees the port") {
  auto* api = http::module();
  REQUIRE(api != nullptr);
  http::server_options o;
  o.host = "127.0.0.1";
  int calls = 0;
  o.routes.push_back({"GET", "/metrics", [&calls](const http::request&) {
                        http::response r;
                        r.body = "n " + std::to_string(++calls) + "\n";
                        r.content_type = "text/plain; version=0.0.4";
                        return r;
                      }});
  uint16_t port = 0;
  auto* s = serve(api, o, port);
  auto r = api->get("127.0.0.1", port, "/metrics", 2s);
  CHECK(r.status == 200);
  CHECK(calls == 1);
  CHECK(api->get("127.0.0.1", port, "/other", 2s).status == 404);

  // A second server on the same port cannot bind: refused with the reason.
  o.port = port;
  uint16_t again = 0;
  std::string err2;
  CHECK(api->serve(o, again, err2) == nullptr);
  CHECK(err2.find("cannot bind 127.0.0.1:" + std::to_string(port)) != std::string::npos);

  api->stop(s);
  CHECK(api->get("127.0.0.1", port, "/metrics", 1s).what
        == http::get_result::outcome::connect_failed);
}

TEST_CASE("http module: POST, query and headers reach the handler, a prefix route, a stream") {
  auto* api = http::module();
  REQUIRE(api != nullptr);
  http::server_options o;
  o.host = "127.0.0.1";
  o.workers = 3;
  o.routes.push_back({"POST", "/api", [](const http::request& q) {
                        http::response r;
                        r.body = q.method + " " + q.body + " " + q.query.at("a") + " "
                                 + q.headers.at("x-custom");
                        return r;
                      }});
  o.routes.push_back({"GET", "/files/", [](const http::request& q) {
                        http::response r;
                        r.body = q.path;
                        return r;
                      }});
  o.routes.push_back({"GET", "/stream", [](const http::request&) {
                        http::response r;
                        r.content_type = "text/event-stream";
                        r.streamer = [](http::stream& out) {
                          for (int i = 0; i < 3; ++i)
                            if (!out.write("data: " + std::to_string(i) + "\n\n")) return;
                        };
                        return r;
                      }});
  uint16_t port = 0;
  auto* s = serve(api, o, port);
  httplib::Client cli("127.0.0.1", port);
  auto post = cli.Post("/api?a=1", {{"X-Custom", "yes"}}, "body", "text/plain");
  REQUIRE(post);
  CHECK(post->body == "POST body 1 yes");
  auto file = cli.Get("/files/app.js");
  REQUIRE(file);
  CHECK(file->body == "/files/app.js");
  CHECK(cli.Get("/filesx")->status == 404);
  CHECK(cli.Get("/api")->status == 404); // GET is not routed there
  auto stream = cli.Get("/stream");
  REQUIRE(stream);
  CHECK(stream->get_header_value("Content-Type") == "text/event-stream");
  CHECK(stream->body == "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  api->stop(s);
}
