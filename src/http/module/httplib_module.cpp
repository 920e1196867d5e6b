// libarbor-http.so: HTTP GET for health checks, and the servers of /metrics
// and [web], on cpp-httplib. Loaded on first use by http::module() (src/http/loader.cpp).

#include "http/http.hpp"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <memory>
#include <cstring>
#include <exception>
#include <thread>

#include <httplib.h>

namespace arbor::http {

class server {
public:
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> finished{false};
};

namespace {

using clock = std::chrono::steady_clock;

get_result get(const std::string& host, uint16_t port, const std::string& path,
               std::chrono::milliseconds timeout) {
  get_result out;
  try {
    auto deadline = clock::now() + timeout;
    httplib::Client cli(host, port);
    cli.set_connection_timeout(timeout);
    cli.set_read_timeout(timeout);
    cli.set_write_timeout(timeout);
    cli.set_keep_alive(false);
    cli.set_follow_location(false);
    bool cancelled = false;
    // The timeouts above are per operation: the progress callback holds
    // the whole exchange to one deadline.
    auto res = cli.Get(path.c_str(), [&](uint64_t, uint64_t) {
      if (clock::now() < deadline) return true;
      cancelled = true;
      return false;
    });
    if (!res) {
      if (cancelled || clock::now() >= deadline) {
        out.what = get_result::outcome::timed_out;
      } else if (res.error() == httplib::Error::Connection) {
        out.what = get_result::outcome::connect_failed;
      } else {
        out.what = get_result::outcome::failed;
        out.error = httplib::to_string(res.error());
      }
      return out;
    }
    out.what = get_result::outcome::ok;
    out.status = res->status;
  } catch (const std::exception& e) {
    out.what = get_result::outcome::failed;
    out.error = e.what();
  } catch (...) {
    out.what = get_result::outcome::failed;
    out.error = "unknown error";
  }
  return out;
}

/// Sends what a streamer writes as chunks, while the client is there.
class chunk_stream final : public stream {
public:
  explicit chunk_stream(httplib::DataSink& sink) : sink_(sink) {}
  bool write(const std::string& data) override {
    return sink_.is_writable() && sink_.write(data.data(), data.size());
  }

private:
  httplib::DataSink& sink_;
};

request to_request(const httplib::Request& req) {
  request out{req.method, req.path, {}, {}, req.body};
  for (auto& [k, v] : req.params) out.query.emplace(k, v); // emplace: the first one stays
  for (auto& [k, v] : req.headers) {
    std::string name = k;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(std::move(name), v);
  }
  return out;
}

void answer(const handler_fn& handler, const httplib::Request& req, httplib::Response& res) {
  try {
    auto r = handler(to_request(req));
    res.status = r.status;
    for (auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
    if (!r.streamer) {
      res.set_content(r.body, r.content_type.c_str());
      return;
    }
    auto streamer = std::move(r.streamer);
    res.set_chunked_content_provider(r.content_type.c_str(),
                                     [streamer](size_t, httplib::DataSink& sink) {
                                       chunk_stream out{sink};
                                       streamer(out);
                                       sink.done();
                                       return true;
                                     });
  } catch (const std::exception& e) {
    res.status = 500;
    res.set_content(std::string{"failed: "} + e.what() + "\n", "text/plain");
  }
}

/// A path (not "/") ending in '/' serves everything under it (httplib matches a regex).
void add_route(httplib::Server& http, route r) {
  std::string pattern;
  for (char c : r.path) {
    if (std::strchr(".^$|()[]{}*+?\\", c)) pattern += '\\';
    pattern += c;
  }
  if (r.path.size() > 1 && r.path.back() == '/') pattern += ".*";
  auto handler = std::make_shared<handler_fn>(std::move(r.handler));
  auto fn = [handler](const httplib::Request& req, httplib::Response& res) {
    answer(*handler, req, res);
  };
  if (r.method == "POST")
    http.Post(pattern, fn);
  else
    http.Get(pattern, fn);
}

void stop(server* s) {
  if (s == nullptr) return;
  if (s->thread.joinable()) {
    // httplib ignores a stop() that comes before its loop runs: wait for it.
    while (!s->http.is_running() && !s->finished)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s->http.stop();
    s->thread.join();
  }
  delete s;
}

server* serve(server_options opts, uint16_t& bound, std::string& err) {
  server* s = nullptr;
  try {
    s = new server;
    auto& http = s->http;
    const int workers = opts.workers > 0 ? opts.workers : 1;
    http.new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<size_t>(workers)); };
    // One request per connection: a slow client holds a worker for at most
    // the read/write timeouts.
    http.set_keep_alive_max_count(1);
    http.set_read_timeout(std::chrono::seconds(5));
    http.set_write_timeout(std::chrono::seconds(5));
    // httplib's default also sets SO_REUSEPORT: a second daemon (or anything)
    // on the same port would then silently take half the scrapes. Only
    // SO_REUSEADDR: a restart may rebind at once, a second binder is refused.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    http.set_payload_max_length(opts.max_body);
    for (auto& r : opts.routes) add_route(http, std::move(r));
    errno = 0;
    int port = opts.port == 0 ? http.bind_to_any_port(opts.host)
                              : (http.bind_to_port(opts.host, opts.port) ? opts.port : -1);
    if (port <= 0) {
      int e = errno;
      err = "cannot bind " + opts.host + ":" + std::to_string(opts.port)
            + (e != 0 ? std::string{": "} + std::strerror(e) : std::string{});
      delete s;
      return nullptr;
    }
    s->thread = std::thread([s] {
      s->http.listen_after_bind();
      s->finished = true;
    });
    while (!http.is_running() && !s->finished)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (s->finished) {
      err = "the HTTP server stopped at once";
      stop(s);
      return nullptr;
    }
    bound = static_cast<uint16_t>(port);
    return s;
  } catch (const std::exception& e) {
    err = e.what();
  } catch (...) {
    err = "unknown error";
  }
  stop(s);
  return nullptr;
}

const module_api table{module_abi, &get, &serve, &stop};

} // namespace

} // namespace arbor::http

extern "C" const arbor::http::module_api* arbor_http_module() {
  return &arbor::http::table;
}
