#pragma once

// systemd's readiness protocol (sd_notify(3)) spoken directly over the
// datagram socket systemd passes in $NOTIFY_SOCKET: no libsystemd.

#include <string>

namespace arbor::os {

/// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...", newline-separated
/// assignments) to the notify socket `socket`: a filesystem path, or an
/// abstract socket written with a leading '@'. Returns whether the whole
/// datagram was sent; false for "" (no socket), a name that is neither, one
/// too long for sockaddr_un, or any socket error. Never throws, never blocks
/// for long (a full receive queue fails with EAGAIN rather than waiting).
bool sd_notify(const std::string& socket, const std::string& state) noexcept;

/// Same, to $NOTIFY_SOCKET; false (and nothing sent) when it is unset or empty.
bool sd_notify(const std::string& state) noexcept;

/// Reads $NOTIFY_SOCKET ("" when unset) and removes it from the environment,
/// so processes started afterwards do not inherit it (the socket is the
/// service manager's channel to this process only). Changes the environment:
/// call it before any other thread exists.
std::string take_notify_socket();

} // namespace arbor::os
