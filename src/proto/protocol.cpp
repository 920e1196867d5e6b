#include "proto/protocol.hpp"

#include <functional>
#include <set>
#include <utility>
#include <vector>

namespace arbor::proto {

namespace {

using nlohmann::json;

/// Dumps without ever throwing on invalid UTF-8 (replaced by U+FFFD).
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// "a string", "an array", "-1", "1.5": what a field held, for error messages.
std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return dump(j);
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return j.type_name();
  }
}

/// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column
/// 24: syntax error while parsing value - invalid literal; last read: 'h'"
/// → "invalid literal": the reason without the echo of the input.
std::string parse_reason(const std::string& what) {
  auto dash = what.find(" - ");
  if (dash == std::string::npos)
    return what;
  std::string reason = what.substr(dash + 3);
  auto echo = reason.find("; last read: '");
  if (echo == std::string::npos)
    return reason;
  // The echo is raw input and may itself hold "'; expected ..." (and invalid
  // UTF-8): only the last one, naming one of nlohmann's tokens, is the tail.
  static const char* const tokens[] = {
    "<uninitialized>", "true literal",  "false literal", "null literal",
    "string literal",  "number literal", "'['",          "'{'",
    "']'",             "'}'",           "':'",           "','",
    "<parse error>",   "end of input",  "'[', '{', or a literal", "unknown token"};
  const std::string marker = "'; expected ";
  std::string tail;
  auto expected = reason.rfind(marker);
  if (expected != std::string::npos && expected >= echo) {
    auto token = reason.substr(expected + marker.size());
    for (const char* t : tokens)
      if (token == t)
        tail = reason.substr(expected + 1);
  }
  return reason.substr(0, echo) + tail;
}

/// An exception's text without nlohmann's "[json.exception.out_of_range.406] ".
std::string bare(const json::exception& e) {
  std::string what = e.what();
  auto end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

std::string syntax_error(std::string_view what, const json::parse_error& e) {
  return std::string{what} + " is not valid JSON: syntax error at byte " + std::to_string(e.byte)
         + " (" + parse_reason(e.what()) + ")";
}

/// Finds the top-level "id" of a line that does not parse, as far as the
/// parser got, so the error reply can still name the request.
class id_finder : public nlohmann::json_sax<json> {
public:
  uint64_t id = 0;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t v) override {
    if (at_id_)
      id = v;
    return value();
  }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0)
      top_is_object_ = true;
    return open();
  }
  bool key(string_t& k) override {
    at_id_ = top_is_object_ && depth_ == 1 && k == "id";
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

private:
  bool value() {
    at_id_ = false;
    return true;
  }
  bool open() {
    at_id_ = false;
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }
  size_t depth_ = 0;
  bool top_is_object_ = false;
  bool at_id_ = false;
};

uint64_t salvage_id(std::string_view line) {
  id_finder finder;
  try {
    json::sax_parse(line.data(), line.data() + line.size(), &finder);
  } catch (...) {
    // bad_alloc on a hostile line: no id then
  }
  return finder.id;
}

/// "1", "\"1\"", "1.0": a version value as it appeared, shortened.
std::string version_text(const json& v) {
  std::string s = dump(v);
  if (s.size() > 32)
    s = s.substr(0, 29) + "...";
  return s;
}

/// Remembers the keys of every object being parsed (a parser callback), so a
/// request that names a key twice is refused instead of the last one winning.
class duplicate_keys {
public:
  std::optional<std::string> first; ///< the first key seen twice in one object

  bool operator()(int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start)
      open_.emplace_back();
    else if (event == json::parse_event_t::object_end)
      open_.pop_back();
    else if (event == json::parse_event_t::key && !first
             && !open_.back().insert(parsed.get<std::string>()).second)
      first = parsed.get<std::string>();
    return true;
  }

private:
  std::vector<std::set<std::string>> open_;
};

} // namespace

std::variant<request, decode_error> decode_request(std::string_view line) {
  if (line.empty())
    return decode_error{"bad_request", "request line is empty", 0};
  json j;
  duplicate_keys duplicates;
  try {
    j = json::parse(line.data(), line.data() + line.size(), std::ref(duplicates));
  } catch (const json::parse_error& e) {
    return decode_error{"bad_request", syntax_error("request", e), salvage_id(line)};
  } catch (const json::exception& e) {
    return decode_error{"bad_request", "request cannot be parsed: " + bare(e), salvage_id(line)};
  } catch (const std::exception& e) {
    return decode_error{"bad_request", std::string{"request cannot be parsed: "} + e.what(), 0};
  }
  if (!j.is_object())
    return decode_error{"bad_request", "request must be a JSON object, got " + describe(j), 0};

  // Read the id leniently first so every later error can carry it.
  uint64_t id = 0;
  auto id_it = j.find("id");
  if (id_it != j.end() && id_it->is_number_unsigned())
    id = id_it->get<uint64_t>();

  if (duplicates.first) {
    std::string key = dump(json(*duplicates.first));
    if (key.size() > 66)
      key = key.substr(0, 63) + "...";
    return decode_error{"bad_request", "key " + key + " appears twice in one object of the request",
                        *duplicates.first == "id" ? 0 : id};
  }

  auto v = j.find("v");
  if (v == j.end())
    return decode_error{"bad_request", "field 'v' (the protocol version) is missing", id};
  if (!v->is_number_integer() || v->get<int64_t>() != version)
    return decode_error{"unsupported_version",
                        "unsupported protocol version " + version_text(*v)
                          + "; this daemon speaks version " + std::to_string(version),
                        id};

  if (id_it == j.end())
    return decode_error{"bad_request", "field 'id' is missing", 0};
  if (!id_it->is_number_unsigned())
    return decode_error{"bad_request",
                        "field 'id' must be a non-negative integer, got " + describe(*id_it), 0};

  request r;
  r.id = id;
  auto cmd = j.find("cmd");
  if (cmd == j.end())
    return decode_error{"bad_request", "field 'cmd' is missing", id};
  if (!cmd->is_string())
    return decode_error{"bad_request", "field 'cmd' must be a string, got " + describe(*cmd), id};
  r.cmd = cmd->get<std::string>();
  if (r.cmd.empty())
    return decode_error{"bad_request", "field 'cmd' must not be empty", id};

  auto args = j.find("args");
  if (args != j.end()) {
    if (!args->is_object())
      return decode_error{"bad_request", "field 'args' must be an object, got " + describe(*args),
                          id};
    r.args = std::move(*args);
  }
  return r;
}

std::string encode_request(const request& r) {
  // Assembled by hand: the envelope reads in a fixed order on the wire.
  return "{\"v\":" + std::to_string(version) + ",\"id\":" + std::to_string(r.id)
         + ",\"cmd\":" + dump(json(r.cmd))
         + ",\"args\":" + (r.args.is_null() ? std::string{"{}"} : dump(r.args)) + "}\n";
}

std::string encode_ok(uint64_t id, const nlohmann::json& result) {
  return "{\"v\":" + std::to_string(version) + ",\"id\":" + std::to_string(id)
         + ",\"ok\":true,\"result\":" + dump(result) + "}\n";
}

std::string encode_error(uint64_t id, std::string_view code, std::string_view message,
                         const nlohmann::json& extra) {
  json error = json::object();
  if (extra.is_object())
    error = extra;
  // code and message are the envelope's: extras never override them
  error["code"] = std::string{code};
  error["message"] = std::string{message};
  return "{\"v\":" + std::to_string(version) + ",\"id\":" + std::to_string(id)
         + ",\"ok\":false,\"error\":" + dump(error) + "}\n";
}

std::string encode_item(uint64_t id, const nlohmann::json& item) {
  return "{\"v\":" + std::to_string(version) + ",\"id\":" + std::to_string(id)
         + ",\"item\":" + dump(item) + "}\n";
}

bool is_item(std::string_view line) {
  // The encoders write the envelope in a fixed order: {"v":1,"id":N,"item":
  const std::string head = "{\"v\":" + std::to_string(version) + ",\"id\":";
  if (line.substr(0, head.size()) != head)
    return false;
  size_t pos = head.size();
  while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9')
    ++pos;
  return line.substr(pos, 8) == ",\"item\":";
}

std::optional<response> decode_response(std::string_view line, std::string& err) {
  json j;
  try {
    j = json::parse(line.data(), line.data() + line.size());
  } catch (const json::parse_error& e) {
    err = line.empty() ? "empty reply line" : syntax_error("reply", e);
    return std::nullopt;
  } catch (const json::exception& e) {
    err = "reply cannot be parsed: " + bare(e);
    return std::nullopt;
  } catch (const std::exception& e) {
    err = std::string{"reply cannot be parsed: "} + e.what();
    return std::nullopt;
  }
  if (!j.is_object()) {
    err = "reply must be a JSON object, got " + describe(j);
    return std::nullopt;
  }
  auto v = j.find("v");
  if (v == j.end()) {
    err = "reply has no field 'v' (the protocol version)";
    return std::nullopt;
  }
  if (!v->is_number_integer() || v->get<int64_t>() != version) {
    err = "reply has protocol version " + version_text(*v) + "; this client speaks version "
          + std::to_string(version);
    return std::nullopt;
  }
  auto id = j.find("id");
  if (id == j.end() || !id->is_number_unsigned()) {
    err = id == j.end() ? "reply has no field 'id'"
                        : "reply field 'id' must be a non-negative integer, got " + describe(*id);
    return std::nullopt;
  }

  response r;
  r.id = id->get<uint64_t>();
  if (auto item = j.find("item"); item != j.end()) {
    r.type = response::kind::item;
    r.result = std::move(*item);
    return r;
  }
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) {
    err = ok == j.end() ? "reply has neither 'ok' nor 'item'"
                        : "reply field 'ok' must be a boolean, got " + describe(*ok);
    return std::nullopt;
  }
  if (ok->get<bool>()) {
    r.type = response::kind::ok;
    auto result = j.find("result");
    r.result = result == j.end() ? json::object() : std::move(*result);
    return r;
  }
  auto error = j.find("error");
  if (error == j.end() || !error->is_object()) {
    err = error == j.end() ? "error reply has no field 'error'"
                           : "error reply field 'error' must be an object, got "
                               + describe(*error);
    return std::nullopt;
  }
  auto code = error->find("code");
  if (code == error->end() || !code->is_string()) {
    err = "error reply has no string 'error.code'";
    return std::nullopt;
  }
  r.type = response::kind::error;
  r.error_code = code->get<std::string>();
  if (auto message = error->find("message"); message != error->end() && message->is_string())
    r.error_message = message->get<std::string>();
  r.error = std::move(*error);
  return r;
}

} // namespace arbor::proto
