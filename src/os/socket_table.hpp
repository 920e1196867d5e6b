#pragma once

// The kernel's table of listening TCP sockets (sock_diag, /proc/net/tcp{,6})
// and the sockets a process holds (/proc/<pid>/fd): who listens on a port is
// the kernel's word, read when a check cannot tell instances apart by itself.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace arbor::os {

/// An IPv4 or IPv6 address in network order; IPv4 is held v4-mapped
/// (::ffff:a.b.c.d), so a v4 socket and a v6 socket bound to ::ffff:a.b.c.d
/// compare equal.
using ip_address = std::array<uint8_t, 16>;

/// One row of the table in state LISTEN.
struct listening_socket {
  ip_address address{};
  uint16_t port = 0;
  uint64_t inode = 0;
};

/// The LISTEN rows of a /proc/net/tcp (`v6` false) or /proc/net/tcp6 text,
/// in table order. Malformed rows and the header are skipped.
std::vector<listening_socket> parse_listening(std::string_view table, bool v6);

/// The listening TCP sockets (IPv4 and IPv6) of our network namespace, from
/// netlink sock_diag (the kernel walks its listening sockets only); where the
/// kernel has no inet_diag, the LISTEN rows of /proc/net/tcp and tcp6 (a host
/// without IPv6 has no tcp6: none from it).
std::vector<listening_socket> read_listening();

/// A numeric address ("127.0.0.1", "::1", no brackets); nullopt for a name.
std::optional<ip_address> parse_ip(const std::string& text);

/// Whether a connection to `host` (as a check writes it: a numeric address,
/// "localhost", or another name) can reach a socket bound to `bound`: a
/// wildcard (0.0.0.0, ::) reaches every host, "localhost" the loopback
/// addresses, a numeric address itself; any other name is not resolved here
/// and is taken to reach every address.
bool reaches(const std::string& host, const ip_address& bound);

/// Inodes of the listening sockets on `port` that a check of `host` can
/// reach, sorted, from `table`.
std::vector<uint64_t> inodes_on(const std::vector<listening_socket>& table, const std::string& host,
                                uint16_t port);

/// The sockets `pid` holds open ("socket:[N]" in /proc/<pid>/fd) among
/// `inodes` (sorted): those found, sorted. Empty if the process is gone or
/// not ours to read.
std::vector<uint64_t> held_sockets(pid_t pid, const std::vector<uint64_t>& inodes);

} // namespace arbor::os
