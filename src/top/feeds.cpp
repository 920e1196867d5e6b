// `arbor top`'s feeds: the event stream, the followed log files, actions.

#include "top/feeds.hpp"

#include <chrono>
#include <map>
#include <unistd.h>

#include "cli/client_call.hpp"
#include "cli/render.hpp"
#include "logs/follower.hpp"
#include "proto/client.hpp"

namespace arbor::top {

using nlohmann::json;

// --- inbox -------------------------------------------------------------------

void inbox::wake() {
  char c = 1;
  auto n = ::write(wake_fd_, &c, 1); // a full pipe already wakes the loop
  (void)n;
}

void inbox::add_event(json ev) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.events.push_back(std::move(ev));
  }
  wake();
}

void inbox::add_log(uint64_t generation, log_line line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    logs_.emplace_back(generation, std::move(line));
  }
  wake();
}

void inbox::add_message(std::string text, bool changed) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.messages.push_back(std::move(text));
    pending_.changed = pending_.changed || changed;
  }
  wake();
}

inbox::batch inbox::take(uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  batch out = std::move(pending_);
  pending_ = batch{};
  for (auto& [gen, line] : logs_)
    if (gen == generation) out.logs.push_back(std::move(line));
  logs_.clear();
  return out;
}

// --- events ------------------------------------------------------------------

void start_event_feed(const std::string& socket, std::shared_ptr<inbox> box) {
  std::thread([socket, box] {
    int last = 50; // recent events first, then only new ones after a reconnect
    for (;;) {
      std::string error;
      if (auto conn = proto::client::connect(socket, error)) {
        proto::request req;
        req.cmd = "events";
        req.args = json{{"follow", true}, {"last", last}};
        last = 0;
        conn->call(std::move(req), error, cli::no_timeout, [&](const json& ev) {
          box->add_event(ev);
          return true;
        });
        box->add_message("event stream ended: " + error, true);
      }
      // The daemon is gone or restarting: try again in a second.
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }).detach();
}

// --- actions -----------------------------------------------------------------

namespace {

std::string describe(const request& r, const json& result) {
  if (r.cmd == "scale") return cli::render_scale(result);
  if (r.cmd == "signal") return cli::render_signaled(r.args.value("signal", ""), result);
  static const std::map<std::string, std::string> past{
    {"start", "started"}, {"stop", "stopped"}, {"restart", "restarted"}, {"reload", "reloaded"}};
  auto it = past.find(r.cmd);
  return cli::render_affected(r.cmd, it == past.end() ? r.cmd : it->second, result);
}

std::string first_line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

} // namespace

void start_action(const std::string& socket, request r, std::shared_ptr<inbox> box) {
  std::thread([socket, r = std::move(r), box] {
    std::string error;
    auto conn = proto::client::connect(socket, error);
    if (!conn) return box->add_message(r.what + ": " + error, false);
    proto::request req;
    req.cmd = r.cmd;
    req.args = r.args;
    auto reply = conn->call(std::move(req), error, cli::action_timeout_ms);
    if (!reply) return box->add_message(r.what + ": " + error, true);
    if (reply->type == proto::response::kind::error)
      return box->add_message(r.what + ": " + reply->error_message, true);
    box->add_message(first_line(describe(r, reply->result)), true);
  }).detach();
}

// --- logs --------------------------------------------------------------------

log_feed::log_feed() = default;
log_feed::~log_feed() { stop(); }

void log_feed::stop() {
  if (follower_) follower_->stop();
  if (thread_.joinable()) thread_.join();
  follower_.reset();
}

void log_feed::follow(const std::string& target, const json& files, std::shared_ptr<inbox> box) {
  stop();
  target_ = target;
  auto gen = ++generation_;
  std::vector<std::string> paths;
  std::map<std::string, bool> is_err;
  if (files.is_array())
    for (const auto& f : files)
      for (const char* stream : {"out", "err"}) {
        auto path = f.is_object() ? f.value(stream, "") : "";
        if (path.empty() || is_err.count(path)) continue;
        paths.push_back(path);
        is_err[path] = stream[0] == 'e';
      }
  if (paths.empty()) return;
  follower_ = std::make_unique<logs::log_follower>(
    paths, [box, gen, is_err](const std::string& file, const std::string& line) {
      auto it = is_err.find(file);
      box->add_log(gen, {line, it != is_err.end() && it->second});
    });
  thread_ = std::thread([f = follower_.get()] {
    f->tail(200);
    f->run_for(std::chrono::milliseconds(-1));
  });
}

} // namespace arbor::top
