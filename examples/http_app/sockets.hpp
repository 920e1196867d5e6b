#pragma once

// Socket helpers of the example app: a handle on an httplib listener that the
// app can shut down itself, and a systemd-style readiness notification.

#include <mutex>
#include <string>

namespace example {

/// How a listening socket may be shared with other processes.
enum class share_mode {
  exclusive,  ///< SO_REUSEADDR only: one process at a time (the admin port)
  reuse_port, ///< SO_REUSEADDR + SO_REUSEPORT: a load-balanced group (the public port)
};

/// Keeps a duplicate of an httplib server's listening socket.
///
/// httplib (0.11.4) owns its descriptor and closes it when accept() fails;
/// `Server::stop()` would also end every keep-alive loop after its current
/// request. With our own duplicate, `shutdown()` takes the socket out of the
/// SO_REUSEPORT group and wakes the blocked accept() (EINVAL), httplib closes
/// its descriptor, and the connections it accepted keep being served; the
/// duplicate rules out a shutdown() of a recycled descriptor number.
class listener_handle {
public:
  explicit listener_handle(share_mode mode) : mode_(mode) {}
  ~listener_handle();
  listener_handle(const listener_handle&) = delete;
  listener_handle& operator=(const listener_handle&) = delete;

  /// For `Server::set_socket_options`: sets the reuse options on `sock` and
  /// keeps a duplicate of it (replacing an earlier one). If `shutdown()` was
  /// called already, the new socket is shut down at once.
  void adopt(int sock);
  /// Closes the duplicate (after a failed bind).
  void release();
  /// Raises the accept backlog (httplib 0.11.4 listens with 5, which drops
  /// SYNs under a burst of new connections). Returns false on error.
  bool set_backlog(int backlog);
  /// Stops accepting: shutdown(SHUT_RDWR) on the listening socket. Idempotent.
  void shutdown();

private:
  share_mode mode_;
  std::mutex mtx_;
  int fd_ = -1;
  bool shut_ = false;
};

/// Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET: a path, or an abstract
/// socket written with a leading '@'. Returns false if the variable is unset
/// or the datagram could not be sent (errno is kept).
bool notify(const std::string& state);

} // namespace example
