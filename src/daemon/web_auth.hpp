#pragma once

// Who may do what on [web] (pure, no I/O but load_token): reads are open on
// the loopback to requests addressed to it; actions need the token in the
// X-Arbor-Token header; a request a browser sends from another origin is
// refused. See README "Web dashboard" for why.

#include <optional>
#include <string>

#include "http/http.hpp"

namespace arbor::detail {

/// The header that carries the token. A custom header: a page of another
/// origin cannot send it without a CORS preflight, which is never answered.
constexpr const char* token_header = "x-arbor-token";

struct web_access {
  std::string token;     ///< what the token header must carry
  bool read_only = false; ///< every action refused
  bool loopback = true;  ///< the listen address is the loopback: reads need no token
  std::string host;      ///< as listened on (e.g. "127.0.0.1")
  uint16_t port = 0;     ///< as bound
};

struct refusal {
  int status = 403;      ///< HTTP status
  std::string code;      ///< protocol error code: "unauthorized", "forbidden"
  std::string message;
};

/// Whether protocol command `cmd` only reads (ping, status, tree, show,
/// logs, events): everything else is an action.
bool is_read_command(const std::string& cmd);

/// Why `q` may not go on, or nullopt: the Host (on the loopback: one of its
/// names with the bound port, so a DNS-rebound name is refused), the Origin
/// when a browser sends one (the same host), the token for actions (and for
/// reads off the loopback), read_only.
std::optional<refusal> check_access(const web_access& a, const http::request& q, bool action);

/// The token: the first line of `token_file` if given; else
/// `<home>/web.token`, created (mode 0600, 32 random bytes as hex) if
/// missing. "" with `err` set if it cannot be read or made, or is shorter
/// than 16 characters.
std::string load_token(const std::string& token_file, const std::string& home, std::string& err);

} // namespace arbor::detail
