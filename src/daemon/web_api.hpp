#pragma once

// The JSON API of [web]: the control protocol over HTTP (README "JSON API").
// POST /api/v1 takes a protocol request as its body; GET /api/v1/<cmd>
// builds one from the query for the commands that only read; both answer
// the protocol's reply object. Beside the protocol: /api/v1/log (a log
// file's tail), /api/v1/samples (the sparklines), /api/v1/stream (events).

#include <atomic>
#include <string>

#include "http/http.hpp"
#include "web_auth.hpp"
#include "web_bridge.hpp"
#include "web_samples.hpp"

namespace arbor::detail {

struct web_context {
  web_access access;
  web_bridge bridge;
  sample_rings samples;
  std::atomic<int> streams{0}; ///< event streams open now

  explicit web_context(caf::actor control) : bridge(std::move(control)) {}
};

/// At most this many event streams at once (each holds a worker thread).
constexpr int max_streams = 4;

http::response api_post(web_context& w, const http::request& q);
/// GET /api/v1/<what>: a read command, log, samples or stream.
http::response api_get(web_context& w, const http::request& q);
/// GET /api/v1/stream: events as server-sent events (`event: arbor`, data: a
/// protocol `event`), a comment every 15 s to find a client that left.
http::response api_stream(web_context& w);

/// A protocol reply line as an HTTP answer: 200 when ok, else a status by
/// its error code (404 not_found, 400 bad requests, 503 busy, ...).
http::response reply_response(const std::string& line);

} // namespace arbor::detail
