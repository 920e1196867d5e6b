#pragma once

// The addresses of an app's `listen`: their forms and values, pure (the
// config's rules and the daemon's binding both read them this way).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arbor::os {

/// Most listening sockets one app's runs get (fds 3..3+n-1): the spawn path
/// reserves a descriptor slot for each at startup (spawn_clone.hpp).
constexpr size_t max_listen_fds = 16;

/// A parsed `listen` address.
struct listen_address {
  enum class kind : uint8_t { tcp, unix_path };
  kind type = kind::tcp;
  std::string host;   ///< tcp: numeric IPv4/IPv6 without brackets; "" = every address
  uint16_t port = 0;  ///< tcp
  std::string path;   ///< unix: absolute path

  /// The one spelling of the address ("127.0.0.1:3000", "[::1]:3000",
  /// ":3000", "unix:/run/a.sock"): equal addresses compare equal.
  std::string canonical() const;
  /// Whether binding both would collide: the same unix path, or TCP on the
  /// same port with the same host or either on every address.
  bool collides_with(const listen_address& o) const;
};

/// Parses "127.0.0.1:3000", "[::1]:3000", ":3000" or "unix:/abs/path";
/// nullopt with `error` (e.g. "'localhost:3000': the host must be a numeric
/// address (127.0.0.1, [::1]) or empty for every address").
std::optional<listen_address> parse_listen_address(std::string_view text, std::string& error);

/// Parses an octal mode such as "0660" (at most 07777); nullopt if invalid.
std::optional<uint32_t> parse_socket_mode(std::string_view text);

/// Whether `owner` has the form "user" or "user:group" (names or numbers).
bool valid_socket_owner(std::string_view owner);

/// Whether `name` may be a LISTEN_FDNAMES entry: 1-255 characters, ASCII
/// letters, digits and "_-.".
bool valid_fd_name(std::string_view name);

} // namespace arbor::os
