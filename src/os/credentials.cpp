#include "os/credentials.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

namespace arbor::os {

namespace {

/// A uid or gid written as a number (below (uid_t)-1, which means "none").
bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10
         && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })
         && std::stoull(s) < 0xffffffffull;
}

std::string limit_text(uint64_t v) {
  return v == rlimit_spec::unlimited ? std::string{"unlimited"} : std::to_string(v);
}

/// The passwd entry of a name (by_name) or a uid; false when there is none.
bool read_passwd(const std::string& name, uid_t uid, bool by_name, user_entry& out) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = by_name ? ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)
                   : ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || !found) return false;
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;
  out.known = true;
  out.name = pw.pw_name ? pw.pw_name : "";
  out.home = pw.pw_dir ? pw.pw_dir : "";
  out.shell = pw.pw_shell ? pw.pw_shell : "";
  return true;
}

/// Supplementary groups as initgroups(name, gid) would set them.
std::vector<gid_t> groups_of(const std::string& name, gid_t gid) {
  int n = 32;
  std::vector<gid_t> out(static_cast<size_t>(n));
  while (::getgrouplist(name.c_str(), gid, out.data(), &n) < 0) out.resize(static_cast<size_t>(n));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool sets_env(const app_spec& app, std::string_view key) {
  return std::any_of(app.env.begin(), app.env.end(),
                     [&](const auto& kv) { return kv.first == key; });
}

} // namespace

const std::vector<rlimit_kind>& rlimit_kinds() {
  static const std::vector<rlimit_kind> kinds = {
    {"cpu", RLIMIT_CPU, false},         {"fsize", RLIMIT_FSIZE, true},
    {"data", RLIMIT_DATA, true},        {"stack", RLIMIT_STACK, true},
    {"core", RLIMIT_CORE, true},        {"rss", RLIMIT_RSS, true},
    {"nproc", RLIMIT_NPROC, false},     {"nofile", RLIMIT_NOFILE, false},
    {"memlock", RLIMIT_MEMLOCK, true},  {"as", RLIMIT_AS, true},
    {"locks", RLIMIT_LOCKS, false},     {"sigpending", RLIMIT_SIGPENDING, false},
    {"msgqueue", RLIMIT_MSGQUEUE, true}, {"nice", RLIMIT_NICE, false},
    {"rtprio", RLIMIT_RTPRIO, false},   {"rttime", RLIMIT_RTTIME, false},
  };
  return kinds;
}

const rlimit_kind* find_rlimit(std::string_view name) {
  for (const auto& k : rlimit_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::string credential_failure(const child_credentials& c, credential_step step, size_t index,
                               int err) {
  std::string what;
  switch (step) {
  case credential_step::rlimit:
    what = "set rlimit " + (index < c.limit_names.size() ? c.limit_names[index] : "?");
    break;
  case credential_step::nice: what = "set nice " + std::to_string(c.nice); break;
  case credential_step::oom_score_adj:
    what = "set oom_score_adj " + std::to_string(c.oom_score_adj);
    break;
  case credential_step::umask: what = "set umask"; break;
  case credential_step::groups: what = "set the supplementary groups"; break;
  case credential_step::gid: what = "setgid to " + std::to_string(c.gid); break;
  case credential_step::uid: what = "setuid to " + std::to_string(c.uid); break;
  case credential_step::none: what = "set credentials"; break;
  }
  return "cannot " + what + ": " + std::strerror(err);
}

std::optional<user_entry> lookup_user(const std::string& text, std::string& error) {
  user_entry u;
  if (all_digits(text)) {
    auto uid = static_cast<uid_t>(std::stoul(text));
    if (!read_passwd({}, uid, false, u)) u.uid = uid; // a bare uid: no passwd entry
    return u;
  }
  if (read_passwd(text, 0, true, u)) return u;
  error = "no such user '" + text + "'";
  return std::nullopt;
}

std::optional<gid_t> lookup_group(const std::string& text, std::string& error) {
  if (all_digits(text)) return static_cast<gid_t>(std::stoul(text));
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  if (::getgrnam_r(text.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found)
    return gr.gr_gid;
  error = "no such group '" + text + "'";
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> credential_refusals(const app_spec& app) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string error;
  const uid_t euid = ::geteuid();
  const std::string not_root = "arbor runs as uid " + std::to_string(euid) + ", not root; ";
  if (!app.user.empty()) {
    auto u = lookup_user(app.user, error);
    if (!u)
      out.emplace_back("user", "'user': " + error);
    else if (!u->known && app.group.empty())
      out.emplace_back("user", "'user': uid " + app.user
                                 + " has no passwd entry, hence no primary group: set 'group'");
    if (u && euid != 0 && u->uid != euid)
      out.emplace_back("user", "user = \"" + app.user + "\": " + not_root
                                 + "only root can run an app as another user");
  }
  if (!app.group.empty()) {
    auto g = lookup_group(app.group, error);
    if (!g)
      out.emplace_back("group", "'group': " + error);
    else if (euid != 0 && *g != ::getegid())
      out.emplace_back("group", "group = \"" + app.group + "\": " + not_root
                                  + "only root can run an app in another group");
  }
  if (euid == 0) return out;
  // Below its own nice a process may go only as far as RLIMIT_NICE lets it.
  rlimit nice_limit{};
  errno = 0;
  const int own_nice = ::getpriority(PRIO_PROCESS, 0);
  const bool lowers = app.nice && *app.nice < own_nice && errno == 0;
  if (lowers && ::getrlimit(RLIMIT_NICE, &nice_limit) == 0 && nice_limit.rlim_cur != RLIM_INFINITY
      && static_cast<rlim_t>(20 - *app.nice) > nice_limit.rlim_cur)
    out.emplace_back("nice", "nice = " + std::to_string(*app.nice) + ": " + not_root
                               + "it runs at nice " + std::to_string(own_nice)
                               + " and only root can lower an app's below that");
  for (const auto& r : app.rlimits) {
    const auto* kind = find_rlimit(r.name);
    rlimit own{};
    if (!kind || ::getrlimit(kind->resource, &own) != 0 || own.rlim_max == RLIM_INFINITY) continue;
    if (r.hard > own.rlim_max)
      out.emplace_back("rlimits." + r.name,
                       "'rlimits." + r.name + "': " + limit_text(r.hard)
                         + " is above arbor's own hard limit " + limit_text(own.rlim_max)
                         + "; only root can raise it");
  }
  return out;
}

std::optional<prepared_credentials> prepare_credentials(const app_spec& app, std::string& error) {
  prepared_credentials out;
  if (app.user.empty() && app.group.empty() && app.umask < 0 && app.rlimits.empty() && !app.nice
      && !app.oom_score_adj)
    return out;
  if (auto refused = credential_refusals(app); !refused.empty()) {
    error = refused.front().second;
    return std::nullopt;
  }
  auto c = std::make_shared<child_credentials>();
  for (const auto& r : app.rlimits) {
    const auto* kind = find_rlimit(r.name);
    if (!kind) {
      error = "'rlimits': unknown limit '" + r.name + "'";
      return std::nullopt;
    }
    c->limits.push_back({kind->resource, r.soft, r.hard});
    c->limit_names.push_back(r.name);
  }
  if (app.nice) {
    c->set_nice = true;
    c->nice = *app.nice;
  }
  if (app.oom_score_adj) {
    c->set_oom = true;
    c->oom_score_adj = *app.oom_score_adj;
    int n = std::snprintf(c->oom_text, sizeof c->oom_text, "%d", c->oom_score_adj);
    c->oom_len = n > 0 ? static_cast<size_t>(n) : 0;
  }
  if (app.umask >= 0) {
    c->set_umask = true;
    c->umask = static_cast<unsigned>(app.umask);
  }
  user_entry u;
  if (!app.user.empty()) u = *lookup_user(app.user, error); // resolvable: no refusal above
  if (!app.user.empty() || !app.group.empty()) {
    // Not root: the keys name arbor's own user and group (no refusal above),
    // so there is nothing to change.
    c->set_ids = ::geteuid() == 0;
    c->uid = app.user.empty() ? ::geteuid() : u.uid;
    c->gid = app.group.empty() ? (app.user.empty() ? ::getegid() : u.gid)
                               : *lookup_group(app.group, error);
    c->groups = u.known ? groups_of(u.name, c->gid) : std::vector<gid_t>{c->gid};
  }
  if (u.known) {
    for (auto [key, value] : {std::pair<const char*, const std::string*>{"HOME", &u.home},
                              {"USER", &u.name}, {"LOGNAME", &u.name}, {"SHELL", &u.shell}})
      if (!value->empty() && !sets_env(app, key)) out.env.push_back(key + ("=" + *value));
  }
  out.creds = std::move(c);
  return out;
}

} // namespace arbor::os
