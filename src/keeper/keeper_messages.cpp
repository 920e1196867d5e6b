// What a daemon says to its keeper: hello (with its command and ledger),
// hold / release of pipes and sockets, a new command, bye; and what a daemon
// that died or was replaced had still queued.

#include "keeper/keeper.hpp"

#include "keeper/wire.hpp"
#include "logs/write_ledger.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace arbor::keeper {

using json = nlohmann::json;

namespace {

void reply_error(int fd, const std::string& message) {
  json j{{"op", "error"}, {"message", message}};
  detail::send_message(fd, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

/// hello's "command": {"argv":[...],"env":[...]}; false if there is none.
bool command_of(const json& msg, detail::daemon_command& out) {
  auto it = msg.find("command");
  if (it == msg.end() || !it->is_object())
    return false;
  out.argv = it->value("argv", std::vector<std::string>{});
  out.env = it->value("env", std::vector<std::string>{});
  return !out.argv.empty() && !out.argv[0].empty();
}

} // namespace

void keeper_server::handle(uint64_t id, const std::string& text, std::vector<int>& fds) {
  connection& c = conns_.at(id);
  json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object()) {
    reply_error(c.fd, "not a JSON object");
    return;
  }
  try {
    std::string op = msg.value("op", "");
    if (op == "hello") {
      if (fds.size() == 2 && msg.value("ledger", false) && c.ledger_page < 0) {
        c.ledger_page = fds[0];
        c.ledger_trash = fds[1];
        fds.clear();
      }
      on_hello(id, msg.value("pid", 0), msg);
      return;
    }
    if (op == "start" || op == "exit_status") { // from anyone: `arbor up`, a daemon
      on_request(c.fd, op, msg);
      return;
    }
    if (!c.daemon) {
      reply_error(c.fd, op.empty() ? "no op" : "'" + op + "' before hello");
      return;
    }
    if (op == "hold") {
      detail::stream_meta m;
      m.id = msg.value("id", "");
      m.path = msg.value("path", "");
      m.prefix = msg.value("prefix", "");
      m.date_format = msg.value("date_format", "");
      m.rotate.max_size = msg.value("max_size", uint64_t{0});
      m.rotate.max_files = std::max<uint32_t>(1, msg.value("max_files", uint32_t{1}));
      struct stat st{};
      std::string bad = fds.size() != 1                         ? "hold needs exactly one descriptor"
                        : m.id.empty() || m.path.empty()         ? "hold needs an id and a path"
                        : m.path.size() > detail::max_path       ? "path too long"
                        : m.prefix.size() > detail::max_prefix   ? "prefix too long"
                        : m.date_format.size() > detail::max_date_format ? "date_format too long"
                        : ::fstat(fds[0], &st) != 0 || !S_ISFIFO(st.st_mode) ? "not a pipe"
                                                                 : "";
      if (!bad.empty()) {
        reply_error(c.fd, bad + " (" + m.id + ")");
        return;
      }
      streams_.hold(std::move(m), fds[0]);
      fds.clear();
    } else if (op == "release") {
      streams_.release(msg.value("id", ""));
    } else if (op == "hold_socket") {
      std::string sid = msg.value("id", "");
      struct stat st{};
      std::string bad = fds.size() != 1 ? "hold_socket needs exactly one descriptor"
                        : sid.empty() || sid.size() > detail::max_path ? "hold_socket needs an id"
                        : ::fstat(fds[0], &st) != 0 || !S_ISSOCK(st.st_mode) ? "not a socket"
                                                                            : "";
      if (!bad.empty()) {
        reply_error(c.fd, bad + " (" + sid + ")");
        return;
      }
      sockets_.hold(sid, fds[0]);
      fds.clear();
    } else if (op == "release_socket") {
      sockets_.release(msg.value("id", ""));
    } else if (op == "command") { // the daemon runs another file or environment now
      detail::daemon_command command;
      if (!command_of(msg, command)) {
        reply_error(c.fd, "command needs argv");
        return;
      }
      c.has_command = true;
      daemons_.set_command(c.pid, command);
      c.command = std::move(command);
    } else if (op == "bye") {
      bye_ = true;
      detail::send_message(c.fd, R"({"op":"bye"})");
    } else {
      reply_error(c.fd, "unknown op '" + op + "'");
    }
  } catch (const std::exception& e) { // a field of the wrong type
    reply_error(c.fd, e.what());
  }
}

void keeper_server::on_request(int fd, const std::string& op, const json& msg) {
  if (op == "start") { // arbor up: the daemon as our child
    detail::daemon_command command;
    std::string error;
    pid_t pid = command_of(msg, command) ? daemons_.start(epfd_, watch_tag_base, command, error)
                                         : (error = "start needs a command", 0);
    if (pid <= 0)
      reply_error(fd, error);
    else
      detail::send_message(fd, json{{"op", "started"}, {"pid", pid}}.dump());
    return;
  }
  // exit_status: an app this keeper reaped after its daemon died
  pid_t pid = msg.value("pid", 0);
  auto e = pid > 0 ? reaper_.take(pid, msg.value("start", uint64_t{0})) : std::nullopt;
  json j{{"op", "exit_status"}, {"pid", pid}, {"known", e.has_value()}};
  if (e) {
    j["signaled"] = e->signaled;
    j["core_dumped"] = e->core_dumped;
    j["code"] = e->code;
  }
  detail::send_message(fd, j.dump());
}

void keeper_server::recover_ledger(connection& c) {
  if (c.ledger_page < 0)
    return;
  std::string done = logs::ledger_recover(
    c.ledger_page, c.ledger_trash, [&](const std::string& key, logs::ledger_stream& s) {
      return streams_.find(key, s.fd, s.path);
    });
  if (!done.empty())
    detail::note("event=ledger daemon_pid=" + std::to_string(c.pid) + " did=\"" + done + "\"");
  ::close(c.ledger_page);
  c.ledger_page = -1;
}

void keeper_server::take_pending(uint64_t id) {
  // A daemon's last holds, releases and command were sent before its death
  // or a new hello (its messages may still be queued): they count.
  int fd = conns_.at(id).fd;
  for (;;) {
    std::string text;
    std::vector<int> fds;
    if (detail::recv_message(fd, text, fds, true) <= 0)
      return;
    json msg = json::parse(text, nullptr, false);
    auto op = msg.is_object() ? msg.find("op") : msg.end();
    if (msg.is_object() && op != msg.end()
        && (*op == "hold" || *op == "release" || *op == "hold_socket" || *op == "release_socket"
            || *op == "command"))
      handle(id, text, fds);
    detail::close_all(fds);
  }
}


void keeper_server::on_hello(uint64_t id, int32_t pid, const json& msg) {
  if (daemon_conn_ != 0 && daemon_conn_ != id) {
    detail::note("event=daemon_replaced old_pid=" + std::to_string(conns_.at(daemon_conn_).pid)
                 + " new_pid=" + std::to_string(pid));
    uint64_t old = daemon_conn_;
    take_pending(old);
    recover_ledger(conns_.at(old));
    daemon_conn_ = 0; // not lost: replaced, so no draining in between
    drop(old, "replaced");
  }
  connection& c = conns_.at(id);
  c.daemon = true;
  c.pid = pid;
  daemon_conn_ = id;
  had_daemon_ = true;
  detail::daemon_command command;
  bool replacement = false;
  if (command_of(msg, command)) {
    c.has_command = true;
    replacement = daemons_.watch(epfd_, watch_tag_base, pid, std::move(command));
  }
  bool was_draining = streams_.draining();
  streams_.stop_draining(); // what was read is in the files now; the rest waits in the pipes
  detail::note("event=hello daemon_pid=" + std::to_string(pid) + " streams="
               + std::to_string(streams_.size()) + " sockets=" + std::to_string(sockets_.size())
               + (was_draining ? " was_draining=1" : ""));
  bool sent = send_streams(c, replacement);
  lost_pid_ = 0;
  if (!sent)
    drop(id, "send_failed");
}

} // namespace arbor::keeper
