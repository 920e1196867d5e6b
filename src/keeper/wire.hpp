#pragma once

// The keeper's socket: AF_UNIX SOCK_SEQPACKET at <home>/keeper.sock. One
// message = one JSON object (UTF-8 text) plus, for some, descriptors passed
// with SCM_RIGHTS.
//
//   daemon -> keeper
//     {"op":"hello","pid":P[,"ledger":true][,"command":{"argv":[..],"env":[..]}]}
//                                                  I am the daemon now (+ 2 fds with
//                                                  ledger); with a command the keeper
//                                                  starts it again if it dies without bye
//     {"op":"hold","id":I,"path":F,"prefix":X,"date_format":D,"max_size":N,
//      "max_files":M} + 1 fd                       (rotation as the daemon's pump's)
//     {"op":"release","id":I}
//     {"op":"hold_socket","id":I} + 1 fd          a listening socket: kept, never read
//     {"op":"release_socket","id":I}
//     {"op":"command","command":{"argv":[..],"env":[..]}}
//                                                  replace it with this from now on
//     {"op":"exit_status","pid":P,"start":T}       how an app the keeper reaped ended
//                                                  (T: its start, /proc ticks; 0: any)
//     {"op":"bye"}                                 stopping cleanly: exit
//   arbor up -> keeper (no hello)
//     {"op":"start","command":{"argv":[..],"env":[..]}}
//                                                  start the daemon as the keeper's child
//   keeper -> daemon
//     {"op":"streams","streams":[{"id","path","prefix","date_format",
//       "drained","dropped"}...],"sockets":[I...],"more":B,"keeper_pid":K,
//       "lost_pid":L,"started_by_keeper":S} + one fd per stream, then one
//       per socket
//       (the answer to hello, in batches of <= max_fds; the last has more=false;
//       L: the daemon that died without bye before this hello, 0 if none; S:
//       the keeper started the process saying hello in place of a dead daemon)
//     {"op":"bye"}                                 the answer to bye
//     {"op":"started","pid":P}                     the answer to start
//     {"op":"exit_status","pid":P,"known":B[,"signaled":B,"core_dumped":B,"code":N]}
//     {"op":"error","message":M}                   a request it refused

#include <cstddef>
#include <string>
#include <vector>

namespace arbor::keeper::detail {

/// Most descriptors in one message (the kernel's SCM_MAX_FD is 253).
constexpr size_t max_fds = 200;
/// Most text in one message. A hello answer starts a new batch before this.
constexpr size_t max_text = 64 * 1024;
/// Limits of a hold's fields (a larger one is refused).
constexpr size_t max_path = 4096;
constexpr size_t max_prefix = 1024;
constexpr size_t max_date_format = 128;

std::string socket_path(const std::string& home);
std::string lock_path(const std::string& home);
std::string log_path(const std::string& home);

/// Sends one message. Returns 0 or an errno (EPIPE/ECONNRESET: the peer is
/// gone; EAGAIN: its queue stayed full past the socket's send timeout).
int send_message(int sock, const std::string& text, const int* fds = nullptr, size_t nfds = 0);

/// Receives one message into `text`, appending received descriptors (close-
/// on-exec) to `fds`. Returns 1 for a message, 0 at end of stream, or -errno
/// (EMSGSIZE: it was truncated; its descriptors are closed then; EAGAIN:
/// `dont_wait` and nothing queued, or the receive timeout passed).
int recv_message(int sock, std::string& text, std::vector<int>& fds, bool dont_wait = false);

/// Closes every descriptor in `fds` and clears it.
void close_all(std::vector<int>& fds);

} // namespace arbor::keeper::detail
