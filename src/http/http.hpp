#pragma once

// The HTTP module: arbor's only use of cpp-httplib (HTTP health checks and the
// /metrics endpoint) lives in a shared object, libarbor-http.so, that the
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
#include <string>
#include <utility>

namespace arbor::http {

constexpr uint32_t module_abi = 1;

/// One GET: the status line's code, or why there is none.
struct get_result {
  enum class outcome { ok, connect_failed, timed_out, failed };
  outcome what = outcome::failed;
  int status = 0;     ///< with outcome::ok
  std::string error;  ///< with outcome::failed: httplib's words
};

/// (status, body) for one request to the served path.
using body_fn = std::function<std::pair<int, std::string>()>;

struct server_options {
  std::string host;          ///< numeric address to bind
  uint16_t port = 0;         ///< 0: any free port
  std::string path;          ///< the one path served (GET); others get 404
  std::string content_type;  ///< of a 200 answer (errors are text/plain)
  body_fn body;              ///< called on the server's worker threads
  int workers = 2;           ///< threads answering requests
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
