#pragma once

// The control protocol: newline-delimited JSON over a Unix socket, every
// message carrying the protocol version. See src/proto/PROTOCOL.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace arbor::proto {

constexpr int version = 1;
/// Longest request line a server accepts (without its newline).
constexpr size_t max_request_line = 1u << 20;

/// A client's request: {"v":1,"id":7,"cmd":"status","args":{...}}.
struct request {
  uint64_t id = 0;
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();
};

/// Why a line is not a valid request. `id` is the request's id if it could
/// be read (else 0), so the error reply can still be matched.
struct decode_error {
  std::string code;     ///< "bad_request", "unsupported_version", "too_large"
  std::string message;  ///< for humans: says what is wrong
  uint64_t id = 0;
};

/// Parses one line (without its newline). Never throws.
std::variant<request, decode_error> decode_request(std::string_view line);

/// Encoders: each returns one line including the trailing '\n'.
std::string encode_request(const request& r);
std::string encode_ok(uint64_t id, const nlohmann::json& result);
/// `extra` (an object) is merged into the error object, e.g. {"diagnostics":[...]}.
std::string encode_error(uint64_t id, std::string_view code, std::string_view message,
                         const nlohmann::json& extra = nlohmann::json::object());
/// One item of a stream (events -f): {"v":1,"id":7,"item":{...}}.
std::string encode_item(uint64_t id, const nlohmann::json& item);
/// Whether `line` (from the encoders above) is a stream item rather than a
/// final reply: the server counts final replies to bound pipelining.
bool is_item(std::string_view line);

/// What a client reads back: a final reply (ok or error) or a stream item.
struct response {
  uint64_t id = 0;
  enum class kind : uint8_t { ok, error, item } type = kind::ok;
  nlohmann::json result;        ///< ok: the result; item: the item
  std::string error_code;       ///< error
  std::string error_message;    ///< error
  nlohmann::json error;         ///< error: the whole error object (code, message, extras)
};

/// Parses one reply line. Never throws; nullopt + `err` on garbage.
std::optional<response> decode_response(std::string_view line, std::string& err);

} // namespace arbor::proto
