// The keys of who an app runs as and its limits: `user` and `group` (a name
// or an id), `umask` (octal), `rlimits` (a table of limits). Names are
// resolved by validate() (identity_rules.cpp), which also refuses what this
// arbor cannot do.

#include <algorithm>

#include "config/detail.hpp"
#include "config/suggest.hpp"
#include "os/credentials.hpp"

namespace arbor::config::detail {

namespace {

/// "027" or "0027"; -1 when it is neither. A string only: TOML's integer 22
/// is decimal, which no one means by a umask.
int parse_umask(const toml::node& n) {
  auto s = n.as_string();
  if (!s || s->get().empty() || s->get().size() > 4) return -1;
  int v = 0;
  for (char c : s->get()) {
    if (c < '0' || c > '7') return -1;
    v = v * 8 + (c - '0');
  }
  return v <= 0777 ? v : -1;
}

std::vector<std::string_view> limit_names() {
  std::vector<std::string_view> out;
  for (const auto& k : os::rlimit_kinds()) out.push_back(k.name);
  return out;
}

/// One limit: a count, "unlimited", or for sizes "64M".
std::optional<uint64_t> limit_value(context& cx, const toml::node& n, const std::string& key,
                                    const os::rlimit_kind& kind) {
  const std::string form = kind.size ? "a size (\"64M\", bytes), a number or \"unlimited\""
                                     : "a number or \"unlimited\"";
  if (auto i = n.as_integer()) {
    if (i->get() >= 0) return static_cast<uint64_t>(i->get());
  } else if (auto s = n.as_string()) {
    if (s->get() == "unlimited" || s->get() == "infinity") return rlimit_spec::unlimited;
    std::string error;
    if (kind.size)
      if (auto v = parse_size(s->get(), error)) return *v;
  }
  cx.error(n, "'" + key + "' must be " + form + ", got "
                + (n.is_string() ? "'" + n.as_string()->get() + "'" : std::string{type_name(n)}));
  return std::nullopt;
}

/// `rlimits.<name>`: a value for both soft and hard, or { soft = , hard = }.
void read_limit(context& cx, const toml::node& n, const std::string& key,
                const os::rlimit_kind& kind, app_spec& app) {
  rlimit_spec out;
  out.name = std::string{kind.name};
  if (auto t = n.as_table()) {
    auto soft = t->get("soft");
    auto hard = t->get("hard");
    for (const auto& e : in_file_order(*t))
      if (e.key != "soft" && e.key != "hard")
        cx.error(e.key_source(), "unknown key '" + std::string{e.key} + "' in '" + key
                                   + "': give 'soft' and 'hard'");
    if (!soft || !hard) {
      cx.error(n, "'" + key + "' needs both 'soft' and 'hard' (or one value for both)");
      return;
    }
    auto s = limit_value(cx, *soft, key + ".soft", kind);
    auto h = limit_value(cx, *hard, key + ".hard", kind);
    if (!s || !h) return;
    out.soft = *s;
    out.hard = *h;
  } else {
    auto v = limit_value(cx, n, key, kind);
    if (!v) return;
    out.soft = out.hard = *v;
  }
  app.key_where.emplace_back(key, cx.pos(n.source()));
  app.rlimits.push_back(std::move(out));
}

} // namespace

void read_id(context& cx, const toml::node& n, std::string_view key, std::string& out) {
  if (auto i = n.as_integer(); i && i->get() >= 0 && i->get() <= 0xfffffffe) {
    out = std::to_string(i->get());
    return;
  }
  auto s = n.as_string();
  if (!s || s->get().empty()) {
    cx.error(n, "'" + std::string{key} + "' must be a name or a numeric id, got "
                  + (s ? std::string{"an empty string"} : std::string{type_name(n)}));
    return;
  }
  out = s->get();
}

void read_umask(context& cx, const toml::node& n, app_spec& app) {
  int v = parse_umask(n);
  if (v < 0) {
    cx.error(n, "'umask' must be an octal mode in a string like \"027\" or \"0027\", got "
                  + (n.is_string() ? "'" + n.as_string()->get() + "'" : std::string{type_name(n)}));
    return;
  }
  app.umask = v;
}

void read_rlimits(context& cx, const toml::node& n, app_spec& app) {
  auto t = n.as_table();
  if (!t) {
    cx.error(n, "'rlimits' must be a table like { nofile = 65536 }, got " + std::string{type_name(n)});
    return;
  }
  for (const auto& e : in_file_order(*t)) {
    const auto* kind = os::find_rlimit(e.key);
    if (!kind) {
      auto hint = did_you_mean(e.key, limit_names());
      if (hint.empty()) {
        hint = " (one of:";
        for (auto name : limit_names()) hint += " " + std::string{name};
        hint += ")";
      }
      cx.error(e.key_source(), "unknown limit '" + std::string{e.key} + "' in 'rlimits' of app '"
                                 + app.name + "'" + hint);
      continue;
    }
    read_limit(cx, *e.value, "rlimits." + std::string{e.key}, *kind, app);
  }
}

} // namespace arbor::config::detail
