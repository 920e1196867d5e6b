#include "web_server.hpp"

#include "log.hpp"

#include "config/validate.hpp"
#include "http/http.hpp"
#include "metrics/exposition.hpp"
#include "web_api.hpp"
#include "web_assets.hpp"

namespace arbor::detail {

struct web_server::impl {
  reply_sink& sink;
  web_context web;
  http::server* http = nullptr; ///< running, or nullptr
  uint16_t port = 0;

  impl(reply_sink& s, caf::actor control) : sink(s), web(std::move(control)) {}

  std::vector<http::route> routes() {
    std::vector<http::route> out;
    for (auto& a : web_assets()) {
      auto serve = [&a](const http::request&) {
        http::response r;
        r.content_type = a.content_type;
        r.body.assign(reinterpret_cast<const char*>(a.data), a.size);
        r.headers.push_back({"X-Content-Type-Options", "nosniff"});
        r.headers.push_back({"X-Frame-Options", "DENY"});
        r.headers.push_back({"Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"});
        return r;
      };
      out.push_back({"GET", a.path, serve});
      if (std::string{a.path} == "/index.html") out.push_back({"GET", "/", serve});
    }
    out.push_back({"POST", "/api/v1", [this](const http::request& q) { return api_post(web, q); }});
    out.push_back({"GET", "/api/v1/", [this](const http::request& q) { return api_get(web, q); }});
    return out;
  }

  void fail(const web_spec& spec, const std::string& why) {
    log_error("supervisor=root event=web_failed listen=\"{}\" reason=\"{}\" (no dashboard; the "
              "tree runs on)",
              spec.listen, why);
  }

  void start(const web_spec& spec, const std::string& home) {
    std::string err;
    auto addr = metrics::parse_listen(spec.listen, err);
    if (!addr) return fail(spec, err);
    auto& a = web.access;
    a.loopback = config::detail::is_loopback_host(addr->host);
    if (!a.loopback && spec.token_file.empty())
      return fail(spec, "not a loopback address and no token_file");
    a.token = load_token(spec.token_file, home, err);
    if (a.token.empty()) return fail(spec, err);
    a.read_only = spec.read_only;
    a.host = addr->host;
    auto* mod = http::module(&err);
    if (mod == nullptr) return fail(spec, err);
    http::server_options o;
    o.host = addr->host;
    o.port = addr->port;
    o.routes = routes();
    o.workers = max_streams + 4; // streams never take the last workers
    o.max_body = 64 * 1024;
    sink.attach_web(&web.bridge);
    http = mod->serve(std::move(o), a.port, err);
    if (http == nullptr) {
      sink.attach_web(nullptr);
      return fail(spec, err);
    }
    port = a.port;
    log_info("supervisor=root event=web_listening listen={}:{} read_only={} token={}", addr->host,
             port, spec.read_only, spec.token_file.empty() ? home + "/web.token" : spec.token_file);
  }
};

web_server::web_server(const web_spec& spec, const std::string& home, caf::actor control,
                       reply_sink& sink)
  : impl_(std::make_unique<impl>(sink, std::move(control))) {
  try {
    impl_->start(spec, home);
  } catch (const std::exception& e) {
    impl_->fail(spec, e.what());
  }
}

web_server::~web_server() {
  auto& d = *impl_;
  d.sink.attach_web(nullptr);
  d.web.bridge.close_all(); // the streams return, so their workers can be joined
  if (d.http != nullptr) http::module()->stop(d.http);
}

bool web_server::serving() const {
  return impl_->http != nullptr;
}

uint16_t web_server::port() const {
  return impl_->port;
}

} // namespace arbor::detail
