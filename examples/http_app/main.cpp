// arbor-example-http: an HTTP app made for rolling reloads under arbor.
//
// Every instance listens on one shared public address with SO_REUSEPORT, so
// an old and a new instance can serve side by side during `arbor reload`, and
// on its own admin port ($PORT) for /health. On SIGTERM it drains and exits 0.
// See README.md beside this file.

#include "http_app.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include <unistd.h>

namespace {

int usage(FILE* out) {
  std::fputs(
    "usage: arbor-example-http [--listen HOST:PORT] [--admin-port N] [--startup-ms N]\n"
    "                          [--drain-timeout-ms N] [--keepalive-secs N] [--keepalive-max N]\n"
    "  --listen HOST:PORT     shared public address, SO_REUSEPORT (default 127.0.0.1:8080)\n"
    "  --admin-port N         this instance's /health port (default: $PORT; none if unset)\n"
    "  --startup-ms N         simulate a slow start: wait N ms before listening\n"
    "  --drain-timeout-ms N   on SIGTERM, wait at most N ms for connections (default 8000)\n"
    "  --keepalive-secs N     idle keep-alive timeout (default 5)\n"
    "  --keepalive-max N      requests per keep-alive connection (default 1000)\n"
    "Environment: PORT, ARBOR_INSTANCE, NOTIFY_SOCKET (READY=1 once listening).\n",
    out);
  return out == stdout ? 0 : 2;
}

bool parse_int(const char* s, int lo, int hi, int& out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
  out = static_cast<int>(v);
  return true;
}

bool parse_host_port(const std::string& s, std::string& host, int& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return parse_int(s.c_str() + colon + 1, 1, 65535, port);
}

/// Parses argv and the environment; returns -1 to go on, else an exit code.
int parse(int argc, char** argv, example::options& o) {
  if (const char* p = std::getenv("PORT"); p && *p && !parse_int(p, 1, 65535, o.admin_port)) {
    std::fprintf(stderr, "arbor-example-http: bad PORT '%s'\n", p);
    return 2;
  }
  if (const char* i = std::getenv("ARBOR_INSTANCE"); i && *i) o.instance = i;
  for (int k = 1; k < argc; ++k) {
    std::string a = argv[k];
    if (a == "-h" || a == "--help") return usage(stdout);
    if (k + 1 >= argc) return usage(stderr);
    const char* v = argv[++k];
    bool ok = true;
    if (a == "--listen") ok = parse_host_port(v, o.host, o.port);
    else if (a == "--admin-port") ok = parse_int(v, 0, 65535, o.admin_port);
    else if (a == "--startup-ms") ok = parse_int(v, 0, 3600000, o.startup_ms);
    else if (a == "--drain-timeout-ms") ok = parse_int(v, 0, 3600000, o.drain_timeout_ms);
    else if (a == "--keepalive-secs") ok = parse_int(v, 1, 3600, o.keepalive_secs);
    else if (a == "--keepalive-max") ok = parse_int(v, 1, 1000000, o.keepalive_max);
    else return usage(stderr);
    if (!ok) {
      std::fprintf(stderr, "arbor-example-http: bad value for %s: '%s'\n", a.c_str(), v);
      return 2;
    }
  }
  return -1;
}

/// Waits for SIGTERM/SIGINT (blocked in every thread) up to `ms` (-1: forever).
/// Returns the signal, or 0 on timeout.
int wait_stop_signal(const sigset_t& set, long ms) {
  for (;;) {
    int sig;
    if (ms < 0) {
      sig = ::sigwaitinfo(&set, nullptr);
    } else {
      timespec ts{ms / 1000, (ms % 1000) * 1000000L};
      sig = ::sigtimedwait(&set, nullptr, &ts);
    }
    if (sig > 0) return sig;
    if (errno == EAGAIN) return 0;
    // EINTR: a signal outside the set (none expected); wait again.
  }
}

void say(const std::string& who, const std::string& what) {
  std::printf("%s: %s\n", who.c_str(), what.c_str());
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  example::options opt;
  if (int rc = parse(argc, argv, opt); rc >= 0) return rc;

  // Before any thread: SIGTERM/SIGINT are read with sigwait by main only;
  // a write to a closed connection must not kill the process.
  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGTERM);
  sigaddset(&stop_set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  example::http_app app{opt};
  const std::string who = app.identity();
  app.start_admin(); // /health says 503 "starting" until ready

  if (opt.startup_ms > 0) {
    say(who, "starting (" + std::to_string(opt.startup_ms) + " ms)");
    if (int sig = wait_stop_signal(stop_set, opt.startup_ms); sig != 0) {
      say(who, std::string{"stopped while starting ("} + strsignal(sig) + ")");
      app.begin_drain();
      return 0;
    }
  }
  if (auto err = app.start_public(); !err.empty()) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), err.c_str());
    return 1;
  }
  app.set_ready();
  say(who, "listening on " + opt.host + ":" + std::to_string(opt.port) + " (SO_REUSEPORT)");
  std::string status = "READY=1\nSTATUS=serving on " + opt.host + ":" + std::to_string(opt.port)
                       + "\nMAINPID=" + std::to_string(::getpid());
  if (std::getenv("NOTIFY_SOCKET") && !example::notify(status))
    std::fprintf(stderr, "%s: NOTIFY_SOCKET: %s\n", who.c_str(), std::strerror(errno));

  int sig = wait_stop_signal(stop_set, -1);
  say(who, std::string{"draining ("} + strsignal(sig) + ")");
  example::notify("STOPPING=1");
  auto t0 = std::chrono::steady_clock::now();
  app.begin_drain();
  bool drained = app.wait_drained(std::chrono::milliseconds(opt.drain_timeout_ms));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - t0).count();
  std::string tally = std::to_string(app.requests()) + " requests, "
                      + std::to_string(app.connections()) + " public connections";
  if (!drained) {
    say(who, "drain timed out after " + std::to_string(ms) + " ms; exiting with connections open ("
             + tally + ")");
    std::fflush(nullptr);
    std::_Exit(0);
  }
  app.join();
  say(who, "drained in " + std::to_string(ms) + " ms (" + tally + "); exit 0");
  return 0;
}
