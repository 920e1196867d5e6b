// libFuzzer target: the control protocol's line decoders (proto/protocol.hpp).
//
// Input: NDJSON bytes. Each '\n'-separated line (a trailing '\r' dropped, as
// the server does) goes to decode_request and decode_response. The server's
// own line framing (control_server::impl::split_lines) is a member of the
// server's private state, not a separate function, so it is not fuzzed here.
//
// Checks, besides memory safety and UB: decoders never throw; an error has a
// known code and a message; what decodes re-encodes (encode_request,
// encode_ok/encode_item/encode_error) to one line that decodes the same.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "proto/protocol.hpp"

using namespace arbor::proto;

namespace {

std::string_view strip_newline(const std::string& line) {
  FUZZ_CHECK(!line.empty() && line.back() == '\n', "an encoded line ends in a newline");
  std::string_view body{line.data(), line.size() - 1};
  FUZZ_CHECK(body.find('\n') == std::string_view::npos, "an encoded line is one line");
  return body;
}

void check_request(std::string_view line) {
  auto decoded = decode_request(line);
  if (auto* err = std::get_if<decode_error>(&decoded)) {
    FUZZ_CHECK(err->code == "bad_request" || err->code == "unsupported_version"
                 || err->code == "too_large",
               "a known error code");
    FUZZ_CHECK(!err->message.empty(), "an error has a message");
    // The error reply the server would send must itself be a valid reply.
    std::string why;
    auto reply = decode_response(strip_newline(encode_error(err->id, err->code, err->message)), why);
    FUZZ_CHECK(reply && reply->type == response::kind::error && reply->id == err->id
                 && reply->error_code == err->code && reply->error_message == err->message,
               "the error reply decodes");
    return;
  }
  const auto& r = std::get<request>(decoded);
  FUZZ_CHECK(!r.cmd.empty() && r.args.is_object(), "a request has a command and object args");
  auto again = decode_request(strip_newline(encode_request(r)));
  auto* r2 = std::get_if<request>(&again);
  FUZZ_CHECK(r2 && r2->id == r.id && r2->cmd == r.cmd && r2->args == r.args,
             "encode_request reads back as the same request");
}

void check_response(std::string_view line) {
  std::string err;
  auto r = decode_response(line, err);
  if (!r) {
    FUZZ_CHECK(!err.empty(), "a rejected reply has a message");
    return;
  }
  std::string encoded;
  switch (r->type) {
  case response::kind::ok: encoded = encode_ok(r->id, r->result); break;
  case response::kind::item: encoded = encode_item(r->id, r->result); break;
  case response::kind::error:
    FUZZ_CHECK(r->error.is_object(), "an error reply keeps its error object");
    encoded = encode_error(r->id, r->error_code, r->error_message, r->error);
    break;
  }
  std::string err2;
  auto again = decode_response(strip_newline(encoded), err2);
  FUZZ_CHECK(again.has_value(), "a re-encoded reply decodes");
  FUZZ_CHECK(again->id == r->id && again->type == r->type && again->result == r->result
               && again->error_code == r->error_code && again->error_message == r->error_message,
             "a re-encoded reply reads back the same");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  for (;;) {
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    check_request(line);
    check_response(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return 0;
}
