#include "os/port_holders.hpp"

#include "os/proc_read.hpp"
#include "os/socket_table.hpp"

namespace arbor::os {

std::vector<socket_holder> socket_holders(const std::vector<uint64_t>& inodes) {
  std::vector<socket_holder> out;
  if (inodes.empty()) return out;
  for_each_own_process([&](pid_t pid) {
    if (held_sockets(pid, inodes).empty()) return;
    proc_brief b;
    if (!read_brief(pid, b) || b.state == 'Z' || b.state == 'X') return;
    socket_holder h;
    h.pid = pid;
    h.pgrp = b.pgrp;
    if (auto v = environ_value(pid, identity_key)) h.id = parse_identity(*v);
    out.push_back(std::move(h));
  });
  return out;
}

} // namespace arbor::os
