#pragma once

// One-shot health checks (HTTP, TCP, exec) with a hard timeout. Blocking:
// run them on the prober's worker threads, never on an actor thread.

#include <chrono>
#include <cstdint>
#include <string>

namespace arbor::probe {

/// `target` with every "{port}" replaced by `port` and every "{instance}" by
/// `instance` (both in decimal). Other text, including other braces, is kept.
std::string expand(const std::string& target, uint16_t port, uint32_t instance);

/// Outcome of one check.
struct probe_result {
  bool ok = false;
  /// What happened, for logs and `arbor status`: "HTTP 200", "HTTP 500",
  /// "connect: Connection refused", "timed out after 3000ms", "exit(0)",
  /// "exit(1)", "signal(SIGSEGV)", "bad target: ...", "prober busy".
  std::string detail;
  std::chrono::milliseconds took{0};
};

/// GET `url` ("http://host[:port][/path]"; https is refused as a bad target).
/// 2xx and 3xx (redirects are not followed) are ok. Connection, read and write
/// timeouts are all `timeout`, and the body download is cancelled once
/// `timeout` has passed since the start; a server that trickles its headers a
/// byte at a time, or a slow DNS lookup of `host`, can still stretch the call
/// past `timeout` (each read waits at most `timeout`). Never throws.
probe_result check_http(const std::string& url, std::chrono::milliseconds timeout);

/// Connects to `host_port` ("host:port", "[v6addr]:port"); ok once the TCP
/// handshake completes (the connection is closed at once). Each address the
/// name resolves to is tried in turn within one overall `timeout`. Name
/// resolution itself is blocking (getaddrinfo); use numeric addresses where
/// that matters. Never throws.
probe_result check_tcp(const std::string& host_port, std::chrono::milliseconds timeout);

/// Runs `/bin/sh -c command` (arbor's environment, cwd inherited, stdin/out/err
/// on /dev/null) in its own process group; ok when it exits 0. On timeout the
/// whole group gets SIGKILL and the shell is reaped before returning
/// ("timed out after Nms"); after a normal exit, anything the command left
/// running in its group is killed too. Never throws.
probe_result check_exec(const std::string& command, std::chrono::milliseconds timeout);

} // namespace arbor::probe
