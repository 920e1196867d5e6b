// call_daemon: the plumbing shared by the client verbs.

#include "cli/client_call.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "proto/client.hpp"

namespace arbor::cli {

namespace {

std::string dump(const nlohmann::json& j, int indent) {
  // A reason may quote a child's bytes; never let invalid UTF-8 abort output.
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

void fail(int code, const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "arbor: %s\n", message.c_str());
  throw CLI::RuntimeError(code);
}

nlohmann::json call_daemon(const std::string& cmd, const nlohmann::json& args, int timeout_ms,
                           const item_handler& on_item) {
  std::string error;
  auto conn = proto::client::connect(socket_path(), error);
  if (!conn) fail(exit_no_daemon, error);
  proto::request req;
  req.cmd = cmd;
  req.args = args.is_null() ? nlohmann::json::object() : args;
  auto reply = conn->call(std::move(req), error, timeout_ms, on_item);
  if (!reply) fail(exit_failed, cmd + ": " + error);
  if (reply->type == proto::response::kind::error) {
    auto err = reply->error.is_object() ? reply->error : nlohmann::json::object();
    if (!err.contains("code")) err["code"] = reply->error_code;
    if (!err.contains("message")) err["message"] = reply->error_message;
    std::fflush(stdout);
    std::fputs(render_error(err).c_str(), stderr);
    throw CLI::RuntimeError(reply->error_code == "config_invalid" ? exit_bad_config : exit_failed);
  }
  return reply->result.is_null() ? nlohmann::json::object() : reply->result;
}

bool write_out(const std::string& text) {
  std::fflush(stdout);
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    auto n = ::write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

void on_interrupt(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void print_json(const nlohmann::json& j) { std::fputs((dump(j, 2) + "\n").c_str(), stdout); }

bool print_json_line(const nlohmann::json& j) { return write_out(dump(j, -1) + "\n"); }

} // namespace arbor::cli
