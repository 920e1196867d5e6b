#include "os/socket_table.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <cerrno>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/proc_read.hpp"

namespace arbor::os {

namespace {

constexpr std::string_view listen_state = "0A"; // TCP_LISTEN in the `st` column

bool hex_u32(std::string_view s, uint32_t& out) {
  if (s.size() != 8) return false;
  out = 0;
  for (char c : s) {
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (v < 0) return false;
    out = out << 4 | static_cast<uint32_t>(v);
  }
  return true;
}

/// "0100007F:1F40" (v4) or 32 hex digits ":" port (v6). The kernel prints
/// each 32-bit word of the address as a number in host byte order: its
/// bytes in memory are the address's bytes in network order.
bool parse_endpoint(std::string_view s, bool v6, ip_address& addr, uint16_t& port) {
  auto colon = s.find(':');
  size_t words = v6 ? 4 : 1;
  if (colon != words * 8 || s.size() != colon + 5) return false;
  addr = ip_address{};
  uint8_t* at = addr.data();
  if (!v6) {
    addr[10] = addr[11] = 0xff;
    at += 12;
  }
  for (size_t i = 0; i < words; ++i) {
    uint32_t w = 0;
    if (!hex_u32(s.substr(i * 8, 8), w)) return false;
    std::memcpy(at + 4 * i, &w, 4);
  }
  uint32_t p = 0;
  if (!hex_u32("0000" + std::string{s.substr(colon + 1)}, p)) return false;
  port = static_cast<uint16_t>(p);
  return true;
}

/// The whitespace-separated fields of one line.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool v4_mapped(const ip_address& a) {
  static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), prefix, sizeof prefix) == 0;
}

bool wildcard(const ip_address& a) {
  static const ip_address any6{};
  ip_address any4{};
  any4[10] = any4[11] = 0xff;
  return a == any6 || a == any4;
}

bool loopback(const ip_address& a) {
  ip_address one{};
  one[15] = 1;
  return a == one || (v4_mapped(a) && a[12] == 127);
}

listening_socket from_diag(const inet_diag_msg& m) {
  listening_socket s;
  s.port = ntohs(m.id.idiag_sport);
  s.inode = m.idiag_inode;
  if (m.idiag_family == AF_INET) {
    s.address[10] = s.address[11] = 0xff;
    std::memcpy(s.address.data() + 12, m.id.idiag_src, 4);
  } else {
    std::memcpy(s.address.data(), m.id.idiag_src, 16);
  }
  return s;
}

/// The kernel's LISTEN sockets of `family` by netlink sock_diag: the kernel
/// walks its listening hash only, so the cost does not grow with the
/// connections (a loaded host's /proc/net/tcp holds every TIME_WAIT too:
/// ~100 ms to read measured at 470 KB). False if the kernel has no inet_diag.
bool dump_listening(int family, std::vector<listening_socket>& out) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return false;
  struct {
    nlmsghdr head;
    inet_diag_req_v2 req;
  } ask{};
  ask.head.nlmsg_len = sizeof ask;
  ask.head.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  ask.head.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  ask.req.sdiag_family = static_cast<uint8_t>(family);
  ask.req.sdiag_protocol = IPPROTO_TCP;
  ask.req.idiag_states = 1u << TCP_LISTEN;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  bool done = ::sendto(fd, &ask, sizeof ask, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel)
              == static_cast<ssize_t>(sizeof ask);
  bool ok = false;
  alignas(nlmsghdr) char buf[32768];
  while (done && !ok) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t left = static_cast<size_t>(n);
    for (const char* at = buf; left >= sizeof(nlmsghdr);) {
      nlmsghdr h;
      std::memcpy(&h, at, sizeof h);
      if (h.nlmsg_len < sizeof h || h.nlmsg_len > left) break;
      if (h.nlmsg_type == NLMSG_DONE) ok = true;
      if (h.nlmsg_type == NLMSG_ERROR) done = false;
      if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) break;
      if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
        inet_diag_msg m;
        std::memcpy(&m, at + NLMSG_HDRLEN, sizeof m);
        out.push_back(from_diag(m));
      }
      size_t step = NLMSG_ALIGN(h.nlmsg_len);
      if (step >= left) break;
      at += step;
      left -= step;
    }
  }
  ::close(fd);
  return ok;
}

} // namespace

std::vector<listening_socket> parse_listening(std::string_view table, bool v6) {
  std::vector<listening_socket> out;
  while (!table.empty()) {
    auto nl = table.find('\n');
    auto line = table.substr(0, nl);
    table.remove_prefix(nl == std::string_view::npos ? table.size() : nl + 1);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    auto f = fields(line);
    if (f.size() < 10 || f[3] != listen_state) continue;
    listening_socket s;
    if (!parse_endpoint(f[1], v6, s.address, s.port)) continue;
    char* end = nullptr;
    std::string inode{f[9]};
    s.inode = std::strtoull(inode.c_str(), &end, 10);
    if (end == inode.c_str() || *end != '\0' || s.inode == 0) continue;
    out.push_back(s);
  }
  return out;
}

std::vector<listening_socket> read_listening() {
  std::vector<listening_socket> out;
  if (dump_listening(AF_INET, out) && dump_listening(AF_INET6, out)) return out;
  out.clear();
  std::string text;
  if (read_small_file("/proc/net/tcp", text)) out = parse_listening(text, false);
  if (read_small_file("/proc/net/tcp6", text)) {
    auto v6 = parse_listening(text, true);
    out.insert(out.end(), v6.begin(), v6.end());
  }
  return out;
}

std::optional<ip_address> parse_ip(const std::string& text) {
  ip_address a{};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    a[10] = a[11] = 0xff;
    std::memcpy(a.data() + 12, &v4, 4);
    return a;
  }
  if (::inet_pton(AF_INET6, text.c_str(), a.data()) == 1) return a;
  return std::nullopt;
}

bool reaches(const std::string& host, const ip_address& bound) {
  if (wildcard(bound)) return true;
  if (host == "localhost") return loopback(bound);
  auto ip = parse_ip(host);
  return !ip || *ip == bound;
}

std::vector<uint64_t> inodes_on(const std::vector<listening_socket>& table, const std::string& host,
                                uint16_t port) {
  std::vector<uint64_t> out;
  for (const auto& s : table)
    if (s.port == port && reaches(host, s.address)) out.push_back(s.inode);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint64_t> held_sockets(pid_t pid, const std::vector<uint64_t>& inodes) {
  std::vector<uint64_t> out;
  char path[40];
  std::snprintf(path, sizeof path, "/proc/%d/fd", static_cast<int>(pid));
  DIR* d = ::opendir(path);
  if (!d) return out;
  static constexpr std::string_view prefix = "socket:[";
  char link[64];
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link - 1);
    if (n <= static_cast<ssize_t>(prefix.size()) || std::string_view{link, prefix.size()} != prefix)
      continue;
    link[n] = '\0';
    uint64_t inode = std::strtoull(link + prefix.size(), nullptr, 10);
    if (std::binary_search(inodes.begin(), inodes.end(), inode)) out.push_back(inode);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

} // namespace arbor::os
