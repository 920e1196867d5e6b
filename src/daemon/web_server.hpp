#pragma once

// `[web]`: the dashboard (assets compiled into the binary, src/web/) and the
// control protocol over HTTP (POST /api/v1, GET conveniences, server-sent
// events), served through the HTTP module (http/http.hpp). Requests reach
// the control actor through a web_bridge, so the API answers exactly what
// the socket does. No work runs while no browser or client asks.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "arbor/spec.hpp"
#include "control_actor.hpp"

namespace arbor::detail {

class web_server {
public:
  /// Reads or makes the token, binds `spec.listen` and serves; replies to
  /// its requests come back through `sink` (which must outlive this
  /// object). Never throws: a bad token or a failed bind is logged and
  /// nothing is served; the tree runs on.
  web_server(const web_spec& spec, const std::string& home, caf::actor control,
             reply_sink& sink);
  /// Ends the event streams, stops serving, joins the HTTP threads.
  ~web_server();
  web_server(const web_server&) = delete;
  web_server& operator=(const web_server&) = delete;

  bool serving() const;
  /// The bound port (the kernel's choice for port 0); 0 if not serving.
  uint16_t port() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::detail
