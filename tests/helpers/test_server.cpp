// A tiny server for health/readiness tests, run as an app under arbor.
//
//   arbor-test-server http CODE|@FILE [DELAY_MS]  HTTP on 127.0.0.1:$PORT after DELAY_MS;
//                                                 every request gets CODE (or the
//                                                 code written in FILE, read per request)
//   arbor-test-server hang                        accepts on $PORT, never answers
//   arbor-test-server tcp [DELAY_MS]              accepts (and closes) on $PORT after DELAY_MS
//   arbor-test-server notify [DELAY_MS]           READY=1 to $NOTIFY_SOCKET after DELAY_MS
//   arbor-test-server reuse PORT DELAY_MS         HTTP 200 on 127.0.0.1:PORT (not $PORT) with
//                                                 SO_REUSEPORT after DELAY_MS: instances
//                                                 sharing one port
//
// Then serves until SIGTERM (exit 0).

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

volatile std::sig_atomic_t stop = 0;

void on_term(int) { stop = 1; }

/// Listens on `p` (default: $PORT); with `reuse`, SO_REUSEPORT beside others.
int listen_on_port(const char* p = std::getenv("PORT"), bool reuse = false) {
  if (!p) {
    std::fprintf(stderr, "test-server: PORT is not set\n");
    std::exit(2);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::atoi(p)));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    std::fprintf(stderr, "test-server: cannot listen on %s: %s\n", p, std::strerror(errno));
    std::exit(3);
  }
  return fd;
}

int code_now(const std::string& spec) {
  if (spec.empty() || spec[0] != '@') return std::atoi(spec.c_str());
  int code = 0;
  std::ifstream(spec.substr(1)) >> code;
  return code ? code : 500;
}

void answer(int c, int code) {
  char buf[4096];
  // Read the request head (enough for a health check's GET).
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    auto n = ::read(c, buf, sizeof buf);
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  auto reply = "HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  (void) !::write(c, reply.data(), reply.size());
}

void serve(int fd, const std::string& mode, const std::string& arg) {
  std::vector<int> held; // `hang`: connections kept open, never answered
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    if (mode == "hang") {
      held.push_back(c);
      continue;
    }
    if (mode == "http") answer(c, code_now(arg));
    ::close(c);
  }
}

void notify_ready() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) {
    std::fprintf(stderr, "test-server: NOTIFY_SOCKET is not set\n");
    std::exit(2);
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (a.sun_path[0] == '@') a.sun_path[0] = '\0';
  std::string msg = "READY=1\nSTATUS=serving";
  if (::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    std::fprintf(stderr, "test-server: sendto %s: %s\n", path, std::strerror(errno));
  ::close(fd);
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  std::string mode = argc > 1 ? argv[1] : "";
  std::string arg = argc > 2 ? argv[2] : "";
  int delay_ms = 0;
  if (mode == "http" && argc > 3) delay_ms = std::atoi(argv[3]);
  if ((mode == "tcp" || mode == "notify") && argc > 2) delay_ms = std::atoi(argv[2]);
  if (mode == "reuse" && argc > 3) delay_ms = std::atoi(argv[3]);
  if (mode != "http" && mode != "hang" && mode != "tcp" && mode != "notify"
      && !(mode == "reuse" && argc > 3)) {
    std::fprintf(stderr, "usage: arbor-test-server http CODE|@FILE [DELAY_MS] | hang | "
                         "tcp [DELAY_MS] | notify [DELAY_MS] | reuse PORT DELAY_MS\n");
    return 2;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  if (mode == "notify") {
    notify_ready();
    while (!stop) ::pause();
    return 0;
  }
  if (mode == "reuse") {
    serve(listen_on_port(arg.c_str(), true), "http", "200");
    return 0;
  }
  serve(listen_on_port(), mode, arg);
  return 0;
}
