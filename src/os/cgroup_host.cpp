#include "os/cgroup_host.hpp"

#include <algorithm>

#include "os/proc_read.hpp"

namespace arbor::os {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    auto end = s.find(sep, at);
    out.push_back(s.substr(at, end == std::string_view::npos ? end : end - at));
    if (end == std::string_view::npos) return out;
    at = end + 1;
  }
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto d = s.substr(i + 1, 3);
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    if (s[i] == '\\' && d.size() == 3 && std::all_of(d.begin(), d.end(), octal)) {
      out += static_cast<char>((d[0] - '0') * 64 + (d[1] - '0') * 8 + (d[2] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

const char* const wanted[] = {"memory", "cpu", "pids"};

} // namespace

std::vector<cgroup_mount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<cgroup_mount> out;
  for (auto line : split(mountinfo, '\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superopts
    auto fields = split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || dash + 3 > fields.end()) continue;
    auto type = *(dash + 1);
    if (type != "cgroup" && type != "cgroup2") continue;
    cgroup_mount m;
    m.path = unescape(fields[4]);
    m.v2 = type == "cgroup2";
    if (!m.v2)
      for (auto opt : split(*(dash + 3), ','))
        if (opt != "rw" && opt != "ro" && opt.find('=') == std::string_view::npos
            && opt.find("relatime") == std::string_view::npos)
          m.controllers.emplace_back(opt);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<cgroup_membership> parse_proc_cgroup(std::string_view text) {
  std::vector<cgroup_membership> out;
  for (auto line : split(text, '\n')) {
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    cgroup_membership m;
    auto ctl = line.substr(first + 1, second - first - 1);
    m.path = std::string{line.substr(second + 1)};
    m.v2 = line.substr(0, first) == "0" && ctl.empty();
    if (!ctl.empty())
      for (auto c : split(ctl, ',')) m.controllers.emplace_back(c);
    out.push_back(std::move(m));
  }
  return out;
}

const cgroup_controller* cgroup_host::find(std::string_view name) const {
  for (auto& c : controllers)
    if (c.name == name) return &c;
  return nullptr;
}

cgroup_host probe_cgroup_host() {
  cgroup_host h;
  std::string mountinfo, self;
  if (!read_small_file("/proc/self/mountinfo", mountinfo)
      || !read_small_file("/proc/self/cgroup", self))
    return h;
  auto mounts = parse_cgroup_mounts(mountinfo);
  auto members = parse_proc_cgroup(self);
  auto join = [](const std::string& mount, const std::string& path) {
    return path == "/" ? mount : mount + path;
  };
  for (auto& m : mounts)
    if (m.v2 && h.v2_mount.empty())
      for (auto& p : members)
        if (p.v2) {
          h.v2_mount = m.path;
          h.v2_self = join(m.path, p.path);
        }
  std::string offered;
  if (!h.v2_self.empty()) read_small_file((h.v2_self + "/cgroup.controllers").c_str(), offered);
  auto offered_list = split(offered.substr(0, offered.find('\n')), ' ');
  for (const char* name : wanted) {
    cgroup_controller c;
    c.name = name;
    c.v2 = std::find(offered_list.begin(), offered_list.end(), name) != offered_list.end();
    if (!c.v2)
      for (auto& m : mounts) {
        if (m.v2 || std::find(m.controllers.begin(), m.controllers.end(), name)
                      == m.controllers.end())
          continue;
        for (auto& p : members)
          if (std::find(p.controllers.begin(), p.controllers.end(), name) != p.controllers.end())
            c.dir = join(m.path, p.path);
      }
    if (c.v2 || !c.dir.empty()) h.controllers.push_back(std::move(c));
  }
  return h;
}

} // namespace arbor::os
