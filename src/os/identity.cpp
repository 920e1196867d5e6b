#include "os/identity.hpp"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include "os/proc_read.hpp"

namespace arbor::os {

namespace {

constexpr size_t hex_width = 16;

bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.size() != hex_width) return false;
  out = 0;
  for (char c : s) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    out = out << 4 | static_cast<uint64_t>(v);
  }
  return true;
}

void write_hex(char* at, uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  for (size_t i = hex_width; i-- > 0; v >>= 4) at[i] = digits[v & 0xf];
}

std::optional<marked_process> marked(pid_t pid, const std::string& home) {
  auto value = environ_value(pid, identity_key);
  if (!value) return std::nullopt;
  auto id = parse_identity(*value);
  if (!id || id->home != home) return std::nullopt;
  proc_brief b;
  if (!read_brief(pid, b) || b.state == 'Z' || b.state == 'X') return std::nullopt;
  return marked_process{pid, b.ppid, b.pgrp, b.start, std::move(*id)};
}

} // namespace

std::string identity_entry(const spawn_identity& id) {
  std::string s{identity_key};
  s += '=';
  s.append(2 * hex_width + 2, ':');
  write_hex(&s[identity_generation_at], id.generation);
  write_hex(&s[identity_generation_at + hex_width + 1], id.spec_hash);
  s += id.app;
  s += '#';
  s += std::to_string(id.index);
  s += '@';
  s += id.home;
  return s;
}

void write_generation(char* at, uint64_t generation) { write_hex(at, generation); }

std::optional<spawn_identity> parse_identity(std::string_view v) {
  spawn_identity id;
  if (v.size() < 2 * hex_width + 2 || v[hex_width] != ':' || v[2 * hex_width + 1] != ':')
    return std::nullopt;
  if (!parse_hex(v.substr(0, hex_width), id.generation)
      || !parse_hex(v.substr(hex_width + 1, hex_width), id.spec_hash))
    return std::nullopt;
  v.remove_prefix(2 * hex_width + 2);
  auto hash = v.find('#');
  auto at = v.find('@');
  if (hash == 0 || hash == std::string_view::npos || at == std::string_view::npos || at < hash + 2)
    return std::nullopt;
  id.app = std::string{v.substr(0, hash)};
  uint64_t index = 0;
  for (char c : v.substr(hash + 1, at - hash - 1)) {
    if (c < '0' || c > '9' || index > UINT32_MAX / 10) return std::nullopt;
    index = index * 10 + static_cast<uint64_t>(c - '0');
  }
  if (index > UINT32_MAX) return std::nullopt;
  id.index = static_cast<uint32_t>(index);
  id.home = std::string{v.substr(at + 1)};
  return id;
}

std::optional<std::string> environ_value(pid_t pid, std::string_view key) {
  char path[40];
  std::snprintf(path, sizeof path, "/proc/%d/environ", static_cast<int>(pid));
  std::string text;
  if (!read_small_file(path, text)) return std::nullopt;
  for (size_t pos = 0; pos < text.size();) {
    auto end = text.find('\0', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view kv{text.data() + pos, end - pos};
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
      return std::string{kv.substr(key.size() + 1)};
    pos = end + 1;
  }
  return std::nullopt;
}

std::vector<marked_process> scan_home(const std::string& home) {
  std::vector<marked_process> out;
  const pid_t self = ::getpid();
  for_each_own_process([&](pid_t pid) {
    if (pid == self) return;
    if (auto m = marked(pid, home)) out.push_back(std::move(*m));
  });
  return out;
}

std::vector<marked_process> children_of_generation(const std::string& home, uint64_t generation,
                                                   const std::vector<pid_t>& skip) {
  std::vector<marked_process> out;
  for (auto pid : our_children()) {
    if (std::binary_search(skip.begin(), skip.end(), pid)) continue;
    if (auto m = marked(pid, home); m && m->id.generation == generation) out.push_back(std::move(*m));
  }
  return out;
}

} // namespace arbor::os
