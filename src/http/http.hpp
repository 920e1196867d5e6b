#pragma once

// The HTTP module: arbor's only use of cpp-httplib (HTTP health checks, the
// /metrics endpoint and the [web] dashboard) lives in a shared object, libarbor-http.so, that the
// daemon loads the first time it needs HTTP. Debian's libcpp-httplib links
// OpenSSL, brotli and zlib and initialises them when loaded: ~4 MB of resident
// memory that a daemon with no HTTP check and no [metrics] never needs.
//
// The module and its users are built together by the same compiler and
// standard library, so the table below passes C++ types; `abi` guards against
// a module left over from another build of arbor.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace arbor::http {

constexpr uint32_t module_abi = 2;

/// One GET: the status line's code, or why there is none.
struct get_result {
  enum class outcome { ok, connect_failed, timed_out, failed };
  outcome what = outcome::failed;
  int status = 0;     ///< with outcome::ok
  std::string error;  ///< with outcome::failed: httplib's words
};

/// One request to a served route, as the handler sees it.
struct request {
  std::string method;  ///< "GET", "POST"
  std::string path;    ///< without the query
  std::map<std::string, std::string> query; ///< decoded; the first of a repeated name
  std::map<std::string, std::string> headers; ///< names in lower case
  std::string body;
};

/// Where a streamed answer goes (server-sent events).
class stream {
public:
  virtual ~stream() = default;
  /// Sends `data` now; false once the client is gone (then stop writing).
  virtual bool write(const std::string& data) = 0;
};

struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set: the answer is streamed instead of `body` (chunked): called once on
  /// the request's worker thread, which it holds until it returns.
  std::function<void(stream&)> streamer;
};

using handler_fn = std::function<response(const request&)>;

/// `handler` answers `method` ("GET" or "POST") requests to exactly `path`;
/// a `path` other than "/" ending in '/' answers every path under it too.
struct route {
  std::string method;
  std::string path;
  handler_fn handler;
};

struct server_options {
  std::string host;          ///< numeric address to bind
  uint16_t port = 0;         ///< 0: any free port
  std::vector<route> routes; ///< other paths get 404; handlers run on worker threads
  int workers = 2;           ///< threads answering requests (a stream holds one)
  size_t max_body = 4096;    ///< longer request bodies get 413
};

class server; ///< opaque: a running HTTP server

struct module_api {
  uint32_t abi;
  /// GET http://host:port/path without keep-alive or redirects; the whole
  /// exchange (connect, send, read) within `timeout`. Never throws.
  get_result (*get)(const std::string& host, uint16_t port, const std::string& path,
                    std::chrono::milliseconds timeout);
  /// Binds and starts serving on its own thread; returns once it accepts
  /// connections, with `bound` the port. nullptr with `err` set if it cannot
  /// bind or start. Never throws.
  server* (*serve)(server_options opts, uint16_t& bound, std::string& err);
  /// Stops accepting, finishes or drops the requests in progress, joins the
  /// threads and frees the server. nullptr is a no-op.
  void (*stop)(server* s);
};

/// The module's table, loaded on the first call, or nullptr if it cannot be
/// loaded; then `err` (if given) says which files were tried and why each
/// failed. The outcome is remembered. Thread-safe; never throws.
const module_api* module(std::string* err = nullptr);

/// Loads the module from `path` (no caching, no search): the table, or
/// nullptr with `err` saying why ("<path>: not found", the dlopen error, "no
/// arbor_http_module symbol", "built for another arbor (ABI n, want m)").
const module_api* load_module_from(const std::string& path, std::string& err);

/// Whether the module is loaded in this process (without trying to load it).
bool module_loaded();

} // namespace arbor::http

/// The module's one exported symbol.
extern "C" const arbor::http::module_api* arbor_http_module();
