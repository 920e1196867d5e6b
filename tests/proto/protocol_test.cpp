#include <catch2/catch.hpp>

#include "proto/protocol.hpp"

#include <string>

using namespace arbor::proto;
using nlohmann::json;

namespace {

/// The line without its trailing '\n' (decoders take lines without it).
std::string_view body(const std::string& line) {
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  return std::string_view{line}.substr(0, line.size() - 1);
}

decode_error decode_fails(std::string_view line) {
  auto r = decode_request(line);
  REQUIRE(std::holds_alternative<decode_error>(r));
  return std::get<decode_error>(r);
}

request decode_ok(std::string_view line) {
  auto r = decode_request(line);
  if (auto* err = std::get_if<decode_error>(&r))
    FAIL(err->code << ": " << err->message);
  return std::get<request>(r);
}

response response_of(const std::string& line) {
  std::string err;
  auto r = decode_response(body(line), err);
  INFO(err);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("protocol: a request survives encode and decode", "[protocol]") {
  request in;
  in.id = 7;
  in.cmd = "status";
  in.args = {{"names", {"web.api", "worker"}}, {"follow", true}};
  std::string line = encode_request(in);
  CHECK(line.rfind("{\"v\":1,\"id\":7,\"cmd\":\"status\",", 0) == 0);
  auto out = decode_ok(body(line));
  CHECK(out.id == 7);
  CHECK(out.cmd == "status");
  CHECK(out.args == in.args);
}

TEST_CASE("protocol: args are optional and default to an empty object", "[protocol]") {
  auto r = decode_ok(R"({"v":1,"id":0,"cmd":"ping"})");
  CHECK(r.id == 0);
  CHECK(r.cmd == "ping");
  CHECK(r.args == json::object());
  // An encoded default request carries "args":{} and decodes the same.
  request ping;
  ping.id = 18446744073709551615u;
  ping.cmd = "ping";
  auto back = decode_ok(body(encode_request(ping)));
  CHECK(back.id == 18446744073709551615u);
  CHECK(back.args == json::object());
}

TEST_CASE("protocol: unknown fields are ignored, field order is free", "[protocol]") {
  auto r = decode_ok(R"({"args":{"x":1},"cmd":"show","trace":"abc","id":42,"v":1})");
  CHECK(r.id == 42);
  CHECK(r.cmd == "show");
  CHECK(r.args == json{{"x", 1}});
}

TEST_CASE("protocol: garbage is a bad_request with id 0", "[protocol]") {
  auto e = decode_fails("hello");
  CHECK(e.code == "bad_request");
  CHECK(e.id == 0);
  CHECK(e.message == "request is not valid JSON: syntax error at byte 1 (invalid literal)");
}

TEST_CASE("protocol: an empty line is a bad_request", "[protocol]") {
  auto e = decode_fails("");
  CHECK(e.code == "bad_request");
  CHECK(e.message == "request line is empty");
}

TEST_CASE("protocol: truncated JSON is a bad_request that still names its id", "[protocol]") {
  auto e = decode_fails(R"({"v":1,"id":3,"cmd":"st)");
  CHECK(e.code == "bad_request");
  CHECK(e.id == 3);
  CHECK(e.message
        == "request is not valid JSON: syntax error at byte 24 "
           "(invalid string: missing closing quote)");

  // Only the top-level id counts, not one nested in args.
  auto nested = decode_fails(R"({"v":1,"args":{"id":9},"cmd":"x",)");
  CHECK(nested.id == 0);
  auto late = decode_fails(R"({"v":1,"args":{"id":9},"id":4,)");
  CHECK(late.id == 4);
  auto in_array = decode_fails(R"([{"id":5},)");
  CHECK(in_array.id == 0);
}

TEST_CASE("protocol: trailing bytes after the object are a bad_request", "[protocol]") {
  auto e = decode_fails(R"({"v":1,"id":3,"cmd":"ping"} x)");
  CHECK(e.code == "bad_request");
  CHECK(e.id == 3);
  CHECK_THAT(e.message, Catch::Contains("syntax error at byte 29"));
  CHECK_THAT(e.message, Catch::Contains("expected end of input"));
}

TEST_CASE("protocol: invalid UTF-8 is a bad_request", "[protocol]") {
  auto e = decode_fails("{\"v\":1,\"id\":2,\"cmd\":\"\xff\"}");
  CHECK(e.code == "bad_request");
  CHECK(e.id == 2);
  CHECK_THAT(e.message, Catch::Contains("ill-formed UTF-8"));
}

TEST_CASE("protocol: an error message never echoes the input", "[protocol]") {
  // Found by fuzzing: input holding "'; expected" was taken for nlohmann's
  // own "; expected <token>" tail, so raw (here invalid UTF-8) bytes of the
  // line leaked into the message.
  auto e = decode_fails("\"ju'; expected st\xa1\xb2\"");
  CHECK(e.code == "bad_request");
  CHECK(e.message
        == "request is not valid JSON: syntax error at byte 18 "
           "(invalid string: ill-formed UTF-8 byte)");
  std::string err;
  auto reply = decode_response(body(encode_error(e.id, e.code, e.message)), err);
  REQUIRE(reply);
  CHECK(reply->error_message == e.message);

  auto quoted = decode_fails(R"("a'; expected end of input)");
  CHECK(quoted.message
        == "request is not valid JSON: syntax error at byte 27 "
           "(invalid string: missing closing quote)");
  // The real tail after an echo is still kept.
  auto kept = decode_fails(R"({"v":1,"id":3,"cmd":"ping"} x)");
  CHECK_THAT(kept.message, Catch::EndsWith("; expected end of input)"));
}

TEST_CASE("protocol: a number out of range is a bad_request, not an exception", "[protocol]") {
  auto e = decode_fails(R"({"v":1,"id":6,"cmd":"x","args":{"n":1e999}})");
  CHECK(e.code == "bad_request");
  CHECK(e.id == 6);
  CHECK_THAT(e.message, Catch::Contains("number overflow"));
}

TEST_CASE("protocol: non-object JSON is a bad_request", "[protocol]") {
  CHECK(decode_fails("[1,2,3]").message == "request must be a JSON object, got an array");
  CHECK(decode_fails(R"("ping")").message == "request must be a JSON object, got a string");
  CHECK(decode_fails("42").message == "request must be a JSON object, got 42");
  CHECK(decode_fails("null").message == "request must be a JSON object, got null");
  CHECK(decode_fails("[1]").code == "bad_request");
}

TEST_CASE("protocol: a missing version is a bad_request, a wrong one unsupported", "[protocol]") {
  auto missing = decode_fails(R"({"id":5,"cmd":"ping"})");
  CHECK(missing.code == "bad_request");
  CHECK(missing.id == 5);
  CHECK(missing.message == "field 'v' (the protocol version) is missing");

  auto two = decode_fails(R"({"v":2,"id":5,"cmd":"ping"})");
  CHECK(two.code == "unsupported_version");
  CHECK(two.id == 5);
  CHECK(two.message == "unsupported protocol version 2; this daemon speaks version 1");

  auto text = decode_fails(R"({"v":"1","id":5,"cmd":"ping"})");
  CHECK(text.code == "unsupported_version");
  CHECK(text.message == "unsupported protocol version \"1\"; this daemon speaks version 1");

  // The version is checked before the rest of the envelope.
  auto later = decode_fails(R"({"v":2,"id":"x","whatever":true})");
  CHECK(later.code == "unsupported_version");
  CHECK(later.id == 0);
}

TEST_CASE("protocol: the id must be a non-negative integer", "[protocol]") {
  auto missing = decode_fails(R"({"v":1,"cmd":"ping"})");
  CHECK(missing.code == "bad_request");
  CHECK(missing.message == "field 'id' is missing");

  auto negative = decode_fails(R"({"v":1,"id":-1,"cmd":"ping"})");
  CHECK(negative.code == "bad_request");
  CHECK(negative.id == 0);
  CHECK(negative.message == "field 'id' must be a non-negative integer, got -1");

  auto fractional = decode_fails(R"({"v":1,"id":1.5,"cmd":"ping"})");
  CHECK(fractional.code == "bad_request");
  CHECK(fractional.message == "field 'id' must be a non-negative integer, got 1.5");

  auto text = decode_fails(R"({"v":1,"id":"7","cmd":"ping"})");
  CHECK(text.code == "bad_request");
  CHECK(text.id == 0);
  CHECK(text.message == "field 'id' must be a non-negative integer, got a string");

  auto huge = decode_fails(R"({"v":1,"id":18446744073709551616,"cmd":"ping"})");
  CHECK(huge.code == "bad_request");
}

TEST_CASE("protocol: cmd must be a non-empty string", "[protocol]") {
  auto missing = decode_fails(R"({"v":1,"id":8})");
  CHECK(missing.code == "bad_request");
  CHECK(missing.id == 8);
  CHECK(missing.message == "field 'cmd' is missing");

  auto number = decode_fails(R"({"v":1,"id":8,"cmd":3})");
  CHECK(number.code == "bad_request");
  CHECK(number.id == 8);
  CHECK(number.message == "field 'cmd' must be a string, got 3");

  auto empty = decode_fails(R"({"v":1,"id":8,"cmd":""})");
  CHECK(empty.code == "bad_request");
  CHECK(empty.message == "field 'cmd' must not be empty");
}

TEST_CASE("protocol: args must be an object when present", "[protocol]") {
  auto array = decode_fails(R"({"v":1,"id":9,"cmd":"status","args":["web"]})");
  CHECK(array.code == "bad_request");
  CHECK(array.id == 9);
  CHECK(array.message == "field 'args' must be an object, got an array");

  auto null = decode_fails(R"({"v":1,"id":9,"cmd":"status","args":null})");
  CHECK(null.code == "bad_request");
  CHECK(null.message == "field 'args' must be an object, got null");
}

TEST_CASE("protocol: deep nesting neither crashes nor throws", "[protocol]") {
  std::string deep(100000, '[');
  auto e = decode_fails(deep);
  CHECK(e.code == "bad_request");
  std::string closed = deep + std::string(100000, ']');
  CHECK(decode_fails(closed).message == "request must be a JSON object, got an array");
}

TEST_CASE("protocol: a key named twice in one object is a bad_request, not the last one wins",
          "[protocol]") {
  auto cmd = decode_fails(R"({"v":1,"id":4,"cmd":"ping","cmd":"shutdown"})");
  CHECK(cmd.code == "bad_request");
  CHECK(cmd.id == 4);
  CHECK(cmd.message == R"(key "cmd" appears twice in one object of the request)");

  auto nested = decode_fails(R"({"v":1,"id":5,"cmd":"stop","args":{"names":["a"],"names":["all"]}})");
  CHECK(nested.code == "bad_request");
  CHECK(nested.message.find(R"("names")") != std::string::npos);

  // Which id the client meant cannot be known: the reply carries 0.
  CHECK(decode_fails(R"({"v":1,"id":5,"id":6,"cmd":"ping"})").id == 0);
  // The same key in different objects is fine.
  auto ok = decode_ok(R"({"v":1,"id":7,"cmd":"x","args":{"a":{"v":1},"b":{"v":2}}})");
  CHECK(ok.args["b"]["v"] == 2);
}

TEST_CASE("protocol: ok replies round trip", "[protocol]") {
  json result = {{"instances", json::array({{{"id", "web.api#0"}, {"pid", 4242}}})}};
  std::string line = encode_ok(12, result);
  CHECK(line.rfind("{\"v\":1,\"id\":12,\"ok\":true,\"result\":", 0) == 0);
  auto r = response_of(line);
  CHECK(r.id == 12);
  CHECK(r.type == response::kind::ok);
  CHECK(r.result == result);
}

TEST_CASE("protocol: error replies round trip and merge extras", "[protocol]") {
  json extra = {{"diagnostics", {"arbor.toml:3:1: unknown key 'comand'"}},
                {"code", "must not win"}};
  std::string line = encode_error(4, "config_invalid", "the config has 1 error", extra);
  auto r = response_of(line);
  CHECK(r.id == 4);
  CHECK(r.type == response::kind::error);
  CHECK(r.error_code == "config_invalid");
  CHECK(r.error_message == "the config has 1 error");
  CHECK(r.error["diagnostics"] == extra["diagnostics"]);
  CHECK(r.error["code"] == "config_invalid");

  auto plain = response_of(encode_error(0, "forbidden", "no"));
  CHECK(plain.error == json{{"code", "forbidden"}, {"message", "no"}});
  // A non-object extra is ignored rather than breaking the reply.
  auto odd = response_of(encode_error(1, "internal", "x", json::array({1})));
  CHECK(odd.error == json{{"code", "internal"}, {"message", "x"}});
}

TEST_CASE("protocol: stream items round trip", "[protocol]") {
  json event = {{"event", "child_exited"}, {"offender", "web.api#0"}};
  auto r = response_of(encode_item(7, event));
  CHECK(r.id == 7);
  CHECK(r.type == response::kind::item);
  CHECK(r.result == event);
}

TEST_CASE("protocol: encoders never throw on invalid UTF-8", "[protocol]") {
  std::string line = encode_error(1, "not_found", "no app named '\xff'");
  auto r = response_of(line);
  CHECK(r.error_message == "no app named '\xef\xbf\xbd'");
  request bad;
  bad.cmd = "sh\xc3";
  CHECK_NOTHROW(decode_ok(body(encode_request(bad))));
}

TEST_CASE("protocol: replies that are not replies are rejected with a reason", "[protocol]") {
  std::string err;
  CHECK_FALSE(decode_response("hello", err));
  CHECK(err == "reply is not valid JSON: syntax error at byte 1 (invalid literal)");
  CHECK_FALSE(decode_response("[]", err));
  CHECK(err == "reply must be a JSON object, got an array");
  CHECK_FALSE(decode_response(R"({"id":1,"ok":true})", err));
  CHECK(err == "reply has no field 'v' (the protocol version)");
  CHECK_FALSE(decode_response(R"({"v":2,"id":1,"ok":true})", err));
  CHECK(err == "reply has protocol version 2; this client speaks version 1");
  CHECK_FALSE(decode_response(R"({"v":1,"id":-1,"ok":true})", err));
  CHECK(err == "reply field 'id' must be a non-negative integer, got -1");
  CHECK_FALSE(decode_response(R"({"v":1,"id":1})", err));
  CHECK(err == "reply has neither 'ok' nor 'item'");
  CHECK_FALSE(decode_response(R"({"v":1,"id":1,"ok":false})", err));
  CHECK(err == "error reply has no field 'error'");
  CHECK_FALSE(decode_response(R"({"v":1,"id":1,"ok":false,"error":{"message":"x"}})", err));
  CHECK(err == "error reply has no string 'error.code'");
  CHECK_FALSE(decode_response("", err));
  CHECK(err == "empty reply line");
}

TEST_CASE("protocol: an ok reply without a result has an empty object", "[protocol]") {
  std::string err;
  auto r = decode_response(R"({"v":1,"id":1,"ok":true})", err);
  REQUIRE(r);
  CHECK(r->result == json::object());
}
