#include "net_util.hpp"

#include <random>
#include <stdexcept>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace arbor::test {

namespace {

bool bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

} // namespace

uint16_t free_ports(int n) {
  std::random_device rd;
  std::uniform_int_distribution<int> pick(20000, 30000); // below the ephemeral range
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto base = static_cast<uint16_t>(pick(rd));
    bool all = true;
    for (int i = 0; i < n && all; ++i) all = bindable(static_cast<uint16_t>(base + i));
    if (all) return base;
  }
  throw std::runtime_error("no free loopback ports");
}

} // namespace arbor::test
