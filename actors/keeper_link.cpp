#include "keeper_link.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "event_bus.hpp"
#include "log.hpp"
#include "os/spawn.hpp"

namespace arbor::detail {

namespace {

/// The most of argv + environment sent with hello (a keeper message holds
/// 64 KiB): past it the daemon is not replaced, and says so.
constexpr size_t max_command_bytes = 48 * 1024;

/// "web.api#0.out.<pid>.<n>" → app, index, stream.
bool parse_key(const std::string& key, std::string& app, uint32_t& index, logs::stream& kind) {
  auto hash = key.rfind('#');
  if (hash == std::string::npos) return false;
  app = key.substr(0, hash);
  auto dot = key.find('.', hash);
  if (dot == std::string::npos) return false;
  try {
    index = static_cast<uint32_t>(std::stoul(key.substr(hash + 1, dot - hash - 1)));
  } catch (...) {
    return false;
  }
  auto what = key.substr(dot + 1, 4);
  if (what == "out.") kind = logs::stream::out;
  else if (what == "err.") kind = logs::stream::err;
  else return false;
  return true;
}

size_t bytes_of(const std::vector<std::string>& words) {
  size_t n = 0;
  for (auto& w : words) n += w.size() + 4; // quotes, comma: roughly as JSON
  return n;
}

} // namespace

keeper_link::keeper_link(std::string home, std::string keeper_binary,
                         std::vector<std::string> command, caf::actor bus)
  : home_(std::move(home)), keeper_binary_(std::move(keeper_binary)), bus_(std::move(bus)) {
  std::vector<std::string> env;
  if (sized_command(command, env)) client_.set_command(std::move(command), std::move(env));
}

bool keeper_link::sized_command(const std::vector<std::string>& command,
                                std::vector<std::string>& env) const {
  if (command.empty()) return false;
  env = os::current_environment();
  if (bytes_of(command) + bytes_of(env) <= max_command_bytes) return true;
  log_warn("supervisor=root event=keeper reason=\"arguments and environment pass {} bytes: "
           "the keeper will not start this daemon again if it dies\"", max_command_bytes);
  return false;
}

void keeper_link::set_command(std::vector<std::string> command) {
  std::vector<std::string> env;
  if (!sized_command(command, env)) return;
  std::string error;
  // Not connected now: the next hello (a new keeper) carries it.
  if (!client_.update_command(std::move(command), std::move(env), error))
    log_warn("supervisor=root event=keeper reason=\"cannot tell the keeper the new daemon "
             "command: {}\"", error);
}

std::optional<os::exit_record> keeper_link::exit_status(pid_t pid, uint64_t start) {
  if (keeper_slow_) return std::nullopt;
  std::string error;
  auto e = client_.exit_status(pid, start, error);
  if (!e) {
    if (!error.empty() && !keeper_slow_.exchange(true))
      log_warn("supervisor=root event=keeper reason=\"no exit status of pid {}: {}; adopted runs' "
               "statuses stay unknown until a new keeper\"", pid, error);
    return std::nullopt;
  }
  os::exit_record r;
  r.pid = pid;
  r.signaled = e->signaled;
  r.core_dumped = e->core_dumped;
  r.code = e->code;
  return r;
}

keeper_link::~keeper_link() {
  stop_watching();
}

void keeper_link::stop_watching() {
  if (wake_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (wake_ >= 0) ::close(wake_);
  wake_ = -1;
}

bool keeper_link::connect(std::string& error) {
  auto handed = client_.start(home_, keeper_binary_, error);
  if (!handed) return false;
  for (auto& h : *handed) {
    std::string app, e;
    uint32_t index = 0;
    logs::stream kind{};
    bool ok = parse_key(h.id, app, index, kind);
    if (!ok && h.fd >= 0) ::close(h.fd);
    if (!ok || !pump_->adopt_stream(app, index, kind, h.fd, h.id)) client_.release(h.id, e);
  }
  if (!handed->empty())
    log_info("supervisor=root event=keeper reason=\"{} output pipe(s) taken back\"",
             handed->size());
  auto sockets = client_.take_sockets();
  for (auto& h : sockets) {
    std::string app, address, e;
    if (!os::listen_registry::split_key(h.id, app, address)) {
      ::close(h.fd);
      client_.release_socket(h.id, e);
      continue;
    }
    bool is_unix = address.compare(0, 5, "unix:") == 0; // bound by a daemon of ours
    listeners_->adopt(app, std::make_shared<os::listen_socket>(h.fd, address, is_unix));
  }
  if (!sockets.empty())
    log_info("supervisor=root event=keeper reason=\"{} listening socket(s) taken back\"",
             sockets.size());
  return true;
}

void keeper_link::start(logs::log_pump& pump, os::listen_registry& listeners) {
  pump_ = &pump;
  listeners_ = &listeners;
  auto ledger = pump.ledger_fds();
  client_.set_ledger(ledger.first, ledger.second);
  std::string err;
  if (!connect(err))
    log_error("supervisor=root event=keeper reason=\"{} (apps' output is not protected "
              "against a daemon crash)\"", err);
  auto news = client_.news();
  if (news.lost_pid > 0) {
    event e;
    e.what = event_kind::daemon_replaced;
    e.offender = "arbor-daemon";
    e.pid = news.lost_pid;
    e.state = proc_state::running;
    e.reason = "the daemon (pid " + std::to_string(news.lost_pid) + ") died; "
               + (news.started_by_keeper ? "arbor-keeper started this one (pid "
                                         : "this one (pid ")
               + std::to_string(::getpid()) + ") re-adopts its apps";
    startup_news_ = std::move(e);
  }
  listeners.on_bound([this](const std::string& key, int fd) {
    std::string e;
    client_.hold_socket(key, fd, e);
  });
  listeners.on_dropped([this](const std::string& key) {
    std::string e;
    client_.release_socket(key, e);
  });
  pump.set_hook([this](const logs::stream_change& c) {
    std::string e;
    if (c.fd >= 0) client_.hold(c.key, c.fd, c.path, c.prefix, c.date_format, e, c.rotate);
    else client_.release(c.key, e);
  });
  wake_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_ < 0) {
    log_error("supervisor=root event=keeper reason=\"eventfd: {}: the keeper's death would go "
              "unnoticed\"", std::strerror(errno));
    return;
  }
  thread_ = std::thread([this] { watch(); });
}

void keeper_link::announce() {
  if (!startup_news_) return;
  startup_news_->at_ns = wall_now_ns();
  caf::anon_send(bus_, *startup_news_);
  startup_news_.reset();
}

void keeper_link::close_clean() {
  closing_ = true;
  std::string err;
  if (client_.connected()) client_.bye(err);
}

void keeper_link::publish(event_kind what, const std::string& offender, int32_t pid,
                          const std::string& reason) {
  event e;
  e.at_ns = wall_now_ns();
  e.what = what;
  e.offender = offender;
  e.pid = pid;
  e.reason = reason;
  e.state = what == event_kind::keeper_lost ? proc_state::stopped : proc_state::running;
  caf::anon_send(bus_, std::move(e)); // the bus logs it (daemon.log) and hands it to `events`
}

/// Waits on a pidfd of the keeper; at its death starts a new one and has it
/// hold every live pipe again. Without a keeper, tries again every second.
void keeper_link::watch() {
  for (;;) {
    pid_t keeper = client_.keeper_pid();
    int pidfd = keeper > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, keeper, 0)) : -1;
    pollfd p[2] = {{wake_, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int n;
    do
      n = ::poll(p, 2, pidfd >= 0 ? -1 : 1000);
    while (n < 0 && errno == EINTR);
    if (pidfd >= 0) ::close(pidfd);
    if ((p[0].revents & POLLIN) || closing_) return;
    if (keeper > 0 && (pidfd < 0 || (p[1].revents & POLLIN)))
      publish(event_kind::keeper_lost, "arbor-keeper", keeper,
              "the keeper died: the apps' output pipes are not protected against a daemon "
              "crash until a new keeper holds them");
    else if (keeper > 0)
      continue;
    std::string err;
    if (!connect(err)) {
      if (keeper > 0)
        log_error("supervisor=root event=keeper reason=\"{} (trying again every second)\"", err);
      continue;
    }
    keeper_slow_ = false;
    pump_->tell_all(); // the hook: every live pipe held by the new keeper
    for (auto& [key, fd] : listeners_->held()) client_.hold_socket(key, fd, err);
    publish(event_kind::keeper_started, "arbor-keeper", client_.keeper_pid(),
            "a new keeper holds the apps' output pipes and listening sockets");
  }
}

} // namespace arbor::detail
