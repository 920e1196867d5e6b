#include "web_bridge.hpp"

namespace arbor::detail {

namespace {
constexpr size_t max_queued = 1000;
} // namespace

uint64_t web_bridge::open() {
  std::lock_guard<std::mutex> g{m_};
  auto conn = web_conn_bit | next_++;
  inbox_[conn];
  return conn;
}

void web_bridge::send_request(uint64_t conn, proto::request req) {
  caf::anon_send(control_, control_request{conn, std::move(req)});
}

std::optional<std::string> web_bridge::next_line(uint64_t conn,
                                                 std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> g{m_};
  for (;;) {
    auto it = inbox_.find(conn);
    if (closing_ || it == inbox_.end()) return std::nullopt;
    if (!it->second.empty()) {
      auto line = std::move(it->second.front());
      it->second.pop_front();
      return line;
    }
    if (cv_.wait_until(g, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

void web_bridge::close(uint64_t conn) {
  {
    std::lock_guard<std::mutex> g{m_};
    inbox_.erase(conn);
  }
  caf::anon_send(control_, conn_closed{conn});
}

std::optional<std::string> web_bridge::call(proto::request req, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto conn = open();
  send_request(conn, std::move(req));
  std::optional<std::string> reply;
  while ((reply = next_line(conn, deadline)) && proto::is_item(*reply)) {
  }
  close(conn);
  return reply;
}

void web_bridge::close_all() {
  std::lock_guard<std::mutex> g{m_};
  closing_ = true;
  cv_.notify_all();
}

void web_bridge::send(uint64_t conn, std::string line) {
  std::lock_guard<std::mutex> g{m_};
  auto it = inbox_.find(conn);
  if (it == inbox_.end()) return;
  it->second.push_back(std::move(line));
  // A stream whose reader fell this far behind loses its oldest lines (the
  // dashboard reloads the tree anyway); a call never has more than one.
  if (it->second.size() > max_queued) it->second.pop_front();
  cv_.notify_all();
}

bool web_bridge::is_open(uint64_t conn) {
  std::lock_guard<std::mutex> g{m_};
  return !closing_ && inbox_.count(conn) != 0;
}

} // namespace arbor::detail
