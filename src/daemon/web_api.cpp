#include "web_api.hpp"

#include <chrono>
#include <fstream>
#include <memory>

#include <sys/stat.h>

#include "event_bus.hpp"

namespace arbor::detail {

namespace {

using nlohmann::json;

/// An action's reply comes once it is done (a stop waits for the processes).
constexpr auto call_timeout = std::chrono::seconds(120);
constexpr size_t tail_bytes = 16 * 1024;
constexpr size_t max_read = 256 * 1024;

http::response json_response(int status, const std::string& body) {
  http::response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body;
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

http::response error_response(int status, const std::string& code, const std::string& message,
                              uint64_t id = 0) {
  auto line = proto::encode_error(id, code, message);
  return json_response(status, line);
}

http::response refused(const refusal& r) {
  return error_response(r.status, r.code, r.message);
}

int status_of(const std::string& code) {
  if (code == "not_found") return 404;
  if (code == "forbidden") return 403;
  if (code == "busy") return 503;
  if (code == "internal") return 500;
  if (code == "too_many_descriptors") return 409;
  return 400;
}

/// Runs `req` through the control actor; a tree answer feeds the sparklines.
http::response run(web_context& w, proto::request req) {
  auto cmd = req.cmd;
  auto line = w.bridge.call(std::move(req), call_timeout);
  if (!line) return error_response(504, "timeout", "the daemon did not answer in time");
  if (cmd == "tree") {
    std::string err;
    if (auto r = proto::decode_response(*line, err); r && r->type == proto::response::kind::ok)
      w.samples.record(r->result["root"], wall_now_ns() / 1000000);
  }
  return reply_response(*line);
}

std::string query(const http::request& q, const char* key) {
  auto it = q.query.find(key);
  return it == q.query.end() ? std::string{} : it->second;
}

/// ?names=a,b&name=x&last=N as the protocol's args.
json args_of(const http::request& q) {
  json args = json::object();
  if (auto names = query(q, "names"); !names.empty()) {
    args["names"] = json::array();
    for (size_t at = 0; at <= names.size();) {
      auto comma = names.find(',', at);
      if (comma == std::string::npos) comma = names.size();
      if (comma > at) args["names"].push_back(names.substr(at, comma - at));
      at = comma + 1;
    }
  }
  if (auto name = query(q, "name"); !name.empty()) args["name"] = name;
  if (auto last = query(q, "last"); !last.empty()) args["last"] = std::stoll(last);
  return args;
}

/// GET /api/v1/log?name=APP&stream=out|err&from=OFFSET: the file's bytes from
/// OFFSET (the last 16 KiB without it, or when the file was rotated below it).
http::response log_tail(web_context& w, const http::request& q) {
  auto listed = run(w, proto::request{1, "logs", json{{"names", json::array({query(q, "name")})}}});
  if (listed.status != 200) return listed;
  std::string err;
  auto reply = proto::decode_response(listed.body, err);
  auto& files = reply->result["files"];
  if (files.empty()) return error_response(404, "not_found", "no log files for that name");
  auto which = query(q, "stream") == "err" ? "err" : "out";
  auto path = files[0].value(which, std::string{});
  struct stat st{};
  int64_t size = ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
  auto from_text = query(q, "from");
  int64_t from = from_text.empty() ? -1 : std::stoll(from_text);
  if (from < 0 || from > size) from = std::max<int64_t>(0, size - static_cast<int64_t>(tail_bytes));
  auto count = static_cast<size_t>(std::min<int64_t>(size - from, max_read));
  std::string text(count, '\0');
  std::ifstream in(path, std::ios::binary);
  in.seekg(from);
  in.read(text.data(), static_cast<std::streamsize>(count));
  text.resize(static_cast<size_t>(in.gcount()));
  json out{{"app", files[0].value("app", std::string{})},
           {"stream", which},
           {"file", path},
           {"from", from},
           {"to", from + static_cast<int64_t>(text.size())},
           {"text", text}};
  return json_response(200, proto::encode_ok(1, out));
}

} // namespace

http::response reply_response(const std::string& line) {
  std::string err;
  auto r = proto::decode_response(line, err);
  if (!r) return error_response(500, "internal", "unreadable reply: " + err);
  auto status = r->type == proto::response::kind::error ? status_of(r->error_code) : 200;
  // The reply as the socket sends it, one line.
  return json_response(status, line);
}

http::response api_post(web_context& w, const http::request& q) {
  auto decoded = proto::decode_request(q.body);
  if (auto* bad = std::get_if<proto::decode_error>(&decoded))
    return error_response(400, bad->code, bad->message, bad->id);
  auto& req = std::get<proto::request>(decoded);
  if (auto no = check_access(w.access, q, !is_read_command(req.cmd))) {
    auto r = refused(*no);
    r.body = proto::encode_error(req.id, no->code, no->message);
    return r;
  }
  if (req.cmd == "events" && req.args.value("follow", false))
    return error_response(400, "bad_request", "follow events with GET /api/v1/stream", req.id);
  return run(w, std::move(req));
}

http::response api_get(web_context& w, const http::request& q) {
  auto what = q.path.substr(std::string{"/api/v1/"}.size());
  if (auto no = check_access(w.access, q, false)) return refused(*no);
  try {
    if (what == "stream") return api_stream(w);
    if (what == "samples") return json_response(200, proto::encode_ok(1, w.samples.to_json()));
    if (what == "log") return log_tail(w, q);
    if (!is_read_command(what))
      return error_response(404, "not_found", "GET /api/v1/" + what + " does not exist: actions "
                                                 "are POST /api/v1");
    return run(w, proto::request{1, what, args_of(q)});
  } catch (const std::logic_error& e) { // std::stoll on a bad number
    return error_response(400, "bad_request", std::string{"bad query: "} + e.what());
  }
}

http::response api_stream(web_context& w) {
  if (++w.streams > max_streams) {
    --w.streams;
    return error_response(503, "busy", "too many event streams open");
  }
  // Counted until the answer is gone, whether or not its streamer ever ran.
  std::shared_ptr<void> counted(nullptr, [&w](void*) { --w.streams; });
  http::response r;
  r.content_type = "text/event-stream";
  r.headers.push_back({"Cache-Control", "no-store"});
  r.streamer = [&w, counted](http::stream& out) {
    auto conn = w.bridge.open();
    w.bridge.send_request(conn, proto::request{1, "events", json{{"follow", true}, {"last", 0}}});
    bool alive = out.write(": arbor events\n\n");
    while (alive) {
      auto line = w.bridge.next_line(conn, std::chrono::steady_clock::now() + std::chrono::seconds(15));
      if (!w.bridge.is_open(conn)) break; // the server is stopping
      if (!line) {
        alive = out.write(": keep-alive\n\n");
        continue;
      }
      std::string err;
      auto item = proto::decode_response(*line, err);
      if (item && item->type == proto::response::kind::item)
        alive = out.write("event: arbor\ndata: " + item->result.dump() + "\n\n");
    }
    w.bridge.close(conn);
  };
  return r;
}

} // namespace arbor::detail
