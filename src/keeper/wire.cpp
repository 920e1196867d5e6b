#include "keeper/wire.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <sys/socket.h>
#include <unistd.h>

namespace arbor::keeper::detail {

std::string socket_path(const std::string& home) {
  return home + "/keeper.sock";
}

std::string lock_path(const std::string& home) {
  return home + "/keeper.lock";
}

std::string log_path(const std::string& home) {
  return home + "/keeper.log";
}

int send_message(int sock, const std::string& text, const int* fds, size_t nfds) {
  if (nfds > max_fds)
    return EINVAL;
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(max_fds * sizeof(int))];
  if (nfds > 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  for (;;) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

int recv_message(int sock, std::string& text, std::vector<int>& fds, bool dont_wait) {
  // The largest message a peer may send is max_text plus slack.
  // Not zero-filled: only the pages a message reaches become resident.
  constexpr size_t cap = max_text + 4096;
  static thread_local std::unique_ptr<char[]> buf{new char[cap]};
  iovec iov{buf.get(), cap};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE((max_fds + 8) * sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (dont_wait ? MSG_DONTWAIT : 0));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  size_t first = fds.size();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    for (size_t i = first; i < fds.size(); ++i)
      ::close(fds[i]);
    fds.resize(first);
    return -EMSGSIZE;
  }
  if (n == 0 && fds.size() == first) {
    // SEQPACKET: an empty message without descriptors is only ever EOF here
    // (nobody sends empty ones).
    return 0;
  }
  text.assign(buf.get(), static_cast<size_t>(n));
  return 1;
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds)
    ::close(fd);
  fds.clear();
}

} // namespace arbor::keeper::detail
