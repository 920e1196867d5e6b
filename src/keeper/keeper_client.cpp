#include "keeper/keeper_client.hpp"

#include "keeper/wire.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace arbor::keeper {

using json = nlohmann::json;

keeper_client::~keeper_client() {
  close();
  for (auto& h : sockets_) ::close(h.fd);
}

bool keeper_client::connected() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return fd_ >= 0;
}

pid_t keeper_client::keeper_pid() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return keeper_pid_;
}

void keeper_client::close() {
  std::lock_guard<std::mutex> guard{mtx_};
  close_locked();
}

void keeper_client::close_locked() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  keeper_pid_ = 0;
}

namespace {

/// One message's text (invalid UTF-8 in an id or path replaced, not thrown on).
std::string text_of(const json& msg) {
  return msg.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The "op" of a message; "" if it is not an object with a string "op".
std::string op_of(const json& j) {
  if (!j.is_object())
    return "";
  auto it = j.find("op");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

} // namespace

void keeper_client::set_ledger(int page_fd, int trash_fd) {
  std::lock_guard<std::mutex> guard{mtx_};
  ledger_[0] = page_fd;
  ledger_[1] = trash_fd;
}

void keeper_client::set_command(std::vector<std::string> argv, std::vector<std::string> env) {
  std::lock_guard<std::mutex> guard{mtx_};
  command_argv_ = std::move(argv);
  command_env_ = std::move(env);
}

bool keeper_client::update_command(std::vector<std::string> argv, std::vector<std::string> env,
                                   std::string& error) {
  std::lock_guard<std::mutex> guard{mtx_};
  command_argv_ = std::move(argv);
  command_env_ = std::move(env);
  json msg{{"op", "command"}, {"command", {{"argv", command_argv_}, {"env", command_env_}}}};
  return send_locked(msg.dump(), nullptr, 0, error);
}

namespace {

/// Reads until the answer `want` (for `pid` if not 0), or a refusal of a
/// start, for at most `wait`. `closed`: the keeper ended the connection.
std::optional<json> read_answer(int fd, const std::string& want, pid_t pid, std::string& error,
                                bool& closed, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      error = "the keeper did not answer within " + std::to_string(wait.count()) + " ms";
      return std::nullopt;
    }
    std::string text;
    std::vector<int> fds;
    int r = detail::recv_message(fd, text, fds);
    detail::close_all(fds);
    if (r <= 0) {
      closed = r == 0 || r == -ECONNRESET;
      error = r == 0 ? "the keeper closed the connection"
                     : std::string{"keeper: "} + std::strerror(-r);
      return std::nullopt;
    }
    json reply = json::parse(text, nullptr, false);
    auto op = op_of(reply);
    if (op == want && (pid == 0 || reply.value("pid", 0) == pid))
      return reply;
    if (op == "error" && want == "started") { // an exit_status never errs: skip old ones
      error = reply.value("message", std::string{"refused"});
      return std::nullopt;
    }
  }
}

} // namespace

pid_t keeper_client::start_daemon(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env, std::string& error) {
  std::lock_guard<std::mutex> guard{mtx_};
  json msg{{"op", "start"}, {"command", {{"argv", argv}, {"env", env}}}};
  if (!send_locked(text_of(msg), nullptr, 0, error))
    return 0;
  bool closed = false;
  auto reply = read_answer(fd_, "started", 0, error, closed, std::chrono::seconds(5));
  if (closed)
    close_locked();
  return reply ? reply->value("pid", 0) : 0;
}

std::optional<detail::child_exit> keeper_client::exit_status(pid_t pid, uint64_t start,
                                                             std::string& error,
                                                             std::chrono::milliseconds wait) {
  std::lock_guard<std::mutex> guard{mtx_};
  json msg{{"op", "exit_status"}, {"pid", pid}, {"start", start}};
  if (!send_locked(text_of(msg), nullptr, 0, error))
    return std::nullopt;
  bool closed = false; // a late answer is skipped by the next read: the connection stays
  auto reply = read_answer(fd_, "exit_status", pid, error, closed, wait);
  if (closed)
    close_locked();
  if (!reply || !reply->value("known", false))
    return std::nullopt;
  detail::child_exit e;
  e.signaled = reply->value("signaled", false);
  e.core_dumped = reply->value("core_dumped", false);
  e.code = reply->value("code", 0);
  return e;
}

hello_news keeper_client::news() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return news_;
}

std::optional<std::vector<handed_stream>> keeper_client::hello(std::string& error) {
  std::lock_guard<std::mutex> guard{mtx_};
  json msg{{"op", "hello"}, {"pid", static_cast<int>(::getpid())}};
  if (!command_argv_.empty())
    msg["command"] = json{{"argv", command_argv_}, {"env", command_env_}};
  news_ = {};
  for (auto& h : sockets_) ::close(h.fd); // from an earlier hello, never taken
  sockets_.clear();
  bool ledger = ledger_[0] >= 0 && ledger_[1] >= 0;
  if (ledger)
    msg["ledger"] = true;
  if (!send_locked(msg.dump(), ledger ? ledger_ : nullptr, ledger ? 2 : 0, error))
    return std::nullopt;
  std::vector<handed_stream> out;
  auto fail = [&](const std::string& why) {
    for (auto& s : out)
      ::close(s.fd);
    for (auto& h : sockets_)
      ::close(h.fd);
    sockets_.clear();
    error = why;
    close_locked();
    return std::nullopt;
  };
  for (;;) {
    std::string text;
    std::vector<int> fds;
    int r = detail::recv_message(fd_, text, fds);
    if (r == 0)
      return fail("the keeper closed the connection");
    if (r < 0)
      return fail(std::string{"keeper: "} + std::strerror(-r));
    json reply = json::parse(text, nullptr, false);
    if (op_of(reply) != "streams") {
      detail::close_all(fds); // an answer to something else (an error about a hold): skip
      continue;
    }
    try {
      const json& list = reply.at("streams");
      const json socks = reply.value("sockets", json::array());
      if (!list.is_array() || !socks.is_array() || list.size() + socks.size() != fds.size()) {
        detail::close_all(fds);
        return fail("keeper: malformed streams message");
      }
      for (size_t i = 0; i < socks.size(); ++i) { // after the streams' descriptors
        auto& fd = fds[list.size() + i];
        sockets_.push_back({socks[i].is_string() ? socks[i].get<std::string>() : "", fd});
        fd = -1;
      }
      for (size_t i = 0; i < list.size(); ++i) {
        handed_stream s;
        s.fd = fds[i];
        fds[i] = -1;
        out.push_back(s); // owned by `out` from here: fail() closes it
        handed_stream& h = out.back();
        h.id = list[i].at("id").get<std::string>();
        h.path = list[i].value("path", "");
        h.prefix = list[i].value("prefix", "");
        h.date_format = list[i].value("date_format", "");
        h.drained = list[i].value("drained", uint64_t{0});
        h.dropped = list[i].value("dropped", uint64_t{0});
      }
      news_.lost_pid = reply.value("lost_pid", int32_t{0});
      news_.started_by_keeper = reply.value("started_by_keeper", false);
      auto more = reply.find("more");
      if (more == reply.end() || !more->is_boolean() || !more->get<bool>())
        return out;
    } catch (const std::exception& e) {
      for (int fd : fds)
        if (fd >= 0)
          ::close(fd);
      return fail(std::string{"keeper: malformed streams message: "} + e.what());
    }
  }
}

std::optional<std::vector<handed_stream>> keeper_client::start(
  const std::string& home, const std::string& keeper_binary, std::string& error,
  std::chrono::milliseconds timeout, const std::vector<std::string>& args) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connect_or_spawn(home, keeper_binary, error, timeout, args))
      return std::nullopt;
    if (auto handed = hello(error))
      return handed;
  }
  return std::nullopt;
}

bool keeper_client::send_locked(const std::string& text, const int* fds, size_t nfds,
                                std::string& error) {
  if (fd_ < 0) {
    error = "not connected to the keeper";
    return false;
  }
  int rc = detail::send_message(fd_, text, fds, nfds);
  if (rc == 0)
    return true;
  error = std::string{"keeper: "} + std::strerror(rc);
  if (rc == EPIPE || rc == ECONNRESET || rc == ENOTCONN)
    close_locked();
  return false;
}

bool keeper_client::hold(const std::string& id, int fd, const std::string& path,
                         const std::string& prefix, const std::string& date_format,
                         std::string& error, const logs::rotation& rotate) {
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    error = "hold " + id + ": not a pipe";
    return false;
  }
  if (id.empty() || path.empty() || path.size() > detail::max_path
      || prefix.size() > detail::max_prefix || date_format.size() > detail::max_date_format) {
    error = "hold " + id + ": empty or too long id/path/prefix/date_format";
    return false;
  }
  json msg{{"op", "hold"},           {"id", id},
           {"path", path},           {"prefix", prefix},
           {"date_format", date_format}, {"max_size", rotate.max_size},
           {"max_files", rotate.max_files}};
  std::lock_guard<std::mutex> guard{mtx_};
  return send_locked(text_of(msg), &fd, 1, error);
}

bool keeper_client::release(const std::string& id, std::string& error) {
  json msg{{"op", "release"}, {"id", id}};
  std::lock_guard<std::mutex> guard{mtx_};
  return send_locked(text_of(msg), nullptr, 0, error);
}

bool keeper_client::hold_socket(const std::string& id, int fd, std::string& error) {
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    error = "hold_socket " + id + ": not a socket";
    return false;
  }
  if (id.empty() || id.size() > detail::max_path) {
    error = "hold_socket: empty or too long id";
    return false;
  }
  json msg{{"op", "hold_socket"}, {"id", id}};
  std::lock_guard<std::mutex> guard{mtx_};
  return send_locked(text_of(msg), &fd, 1, error);
}

bool keeper_client::release_socket(const std::string& id, std::string& error) {
  json msg{{"op", "release_socket"}, {"id", id}};
  std::lock_guard<std::mutex> guard{mtx_};
  return send_locked(text_of(msg), nullptr, 0, error);
}

std::vector<handed_socket> keeper_client::take_sockets() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::exchange(sockets_, {});
}

bool keeper_client::bye(std::string& error) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!send_locked(R"({"op":"bye"})", nullptr, 0, error))
    return false;
  for (;;) {
    std::string text;
    std::vector<int> fds;
    int r = detail::recv_message(fd_, text, fds);
    detail::close_all(fds);
    if (r < 0) {
      error = std::string{"keeper: no answer to bye: "} + std::strerror(-r);
      close_locked();
      return false;
    }
    json reply = json::parse(text, nullptr, false);
    if (r == 0 || op_of(reply) == "bye") {
      close_locked();
      return true;
    }
  }
}

} // namespace arbor::keeper
