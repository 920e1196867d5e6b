#pragma once

// Receives systemd-style sd_notify datagrams (READY=1, STATUS=..., ...) from
// supervised instances started with `ready = "notify"`.
//
// Design: one AF_UNIX SOCK_DGRAM socket per registered instance, all served
// by one thread (epoll). Each instance learns only its own socket path (via
// NOTIFY_SOCKET), so a message's socket says who sent it: no SO_PASSCRED
// pid→instance mapping, which would misattribute messages from a child's
// children and races with pid reuse, and another instance cannot claim
// readiness for this one without knowing its path. The sender's pid is still
// passed along (SO_PASSCRED) for MAINPID-style checks.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace arbor::probe {

/// One datagram, split into "KEY=VALUE" lines (lines without '=' and empty
/// lines are skipped; order is kept; a repeated key appears twice).
struct notify_message {
  std::vector<std::pair<std::string, std::string>> fields;
  pid_t sender = 0;  ///< from SCM_CREDENTIALS; 0 if unknown

  /// The last value of `key`, or nullptr.
  const std::string* get(const std::string& key) const;
  bool ready() const { auto v = get("READY"); return v && *v == "1"; }
  bool stopping() const { auto v = get("STOPPING"); return v && *v == "1"; }
};

/// Splits a datagram's text into fields (see notify_message).
std::vector<std::pair<std::string, std::string>> parse_notify(const std::string& text);

class notify_listener {
public:
  using callback = std::function<void(const notify_message&)>;

  /// Starts the thread; sockets are created in `dir` (which should be private
  /// to arbor, mode 0700). Throws std::system_error if epoll/eventfd/the
  /// thread cannot be created (startup only).
  explicit notify_listener(std::string dir);
  /// Stops the thread, closes and unlinks every socket still registered.
  ~notify_listener();
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;

  /// Creates the socket for `key` (e.g. "web.api#0"; characters other than
  /// [A-Za-z0-9._-] become '_') as `dir`/<key>.sock, mode 0600, replacing a
  /// stale file and any earlier registration of `key`. Returns the path to
  /// pass as NOTIFY_SOCKET, or "" with `error` set (e.g. path too long for
  /// sockaddr_un, bind failure). `on_message` runs on the listener thread:
  /// keep it short (one actor message) and non-throwing.
  std::string add(const std::string& key, callback on_message, std::string* error = nullptr);

  /// Closes and unlinks `key`'s socket. Once it returns, `key`'s callback is
  /// not running and will not run again (also when called from a callback).
  /// Unknown keys are ignored.
  void remove(const std::string& key);

  /// Number of registered keys.
  size_t size() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace arbor::probe
