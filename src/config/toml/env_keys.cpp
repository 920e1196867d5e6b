// An app's environment tables: `env`, and the `env_<name>` overlays that
// `--env NAME` selects (PM2's env_production). Every overlay is checked
// whether selected or not, so `check` finds a mistake before a deploy does.

#include <algorithm>

#include "config/detail.hpp"

namespace arbor::config::detail {

namespace {

using env_list = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view overlay_prefix = "env_";

/// `over` on `env`: a key already there takes the new value where it first
/// appears (its later duplicates go), a new key goes at the end. A value equal
/// to the one it replaces leaves `env` as it was, so `apply` sees no change.
void lay_over(env_list& env, const env_list& over) {
  for (const auto& [key, value] : over) {
    auto same_key = [&key = key](const auto& kv) { return kv.first == key; };
    auto first = std::find_if(env.begin(), env.end(), same_key);
    if (first == env.end()) {
      env.emplace_back(key, value);
      continue;
    }
    first->second = value;
    env.erase(std::remove_if(first + 1, env.end(), same_key), env.end());
  }
}

} // namespace

bool is_env_overlay_key(std::string_view key) {
  return key.substr(0, overlay_prefix.size()) == overlay_prefix && key != "env_file";
}

void read_env_table(context& cx, const toml::node& n, std::string_view key, app_spec& app,
                    env_list& out) {
  const std::string k{key};
  auto table = n.as_table();
  if (!table) {
    cx.error(n, "'" + k + "' must be a table of NAME = \"value\", got " + type_name(n));
    return;
  }
  for (const auto& e : in_file_order(*table)) {
    std::string name{e.key};
    app.key_where.emplace_back(k + "." + name, cx.pos(e.key_source()));
    const auto& v = *e.value;
    std::string value;
    if (auto s = v.as_string())
      value = s->get();
    else if (auto i = v.as_integer())
      value = std::to_string(i->get());
    else if (auto f = v.as_floating_point())
      value = format_number(f->get());
    else if (auto b = v.as_boolean())
      value = b->get() ? "true" : "false";
    else {
      cx.error(v, "'" + k + "." + name + "' must be a string, number or boolean, got "
                    + type_name(v));
      continue;
    }
    out.emplace_back(std::move(name), std::move(value));
  }
}

void read_env_overlays(context& cx, const std::vector<entry>& overlays, app_spec& app) {
  for (const auto& e : overlays) {
    const std::string key{e.key};
    const auto name = e.key.substr(overlay_prefix.size());
    if (!is_env_name(name)) {
      cx.error(e.key_source(), "'" + key + "' in app '" + app.name
                                 + "': an environment name (after 'env_') is letters, digits, "
                                   "'_' and '-', e.g. env_production");
      continue;
    }
    app.key_where.emplace_back(key, cx.pos(e.value->source()));
    auto at = std::lower_bound(cx.envs.begin(), cx.envs.end(), name);
    if (at == cx.envs.end() || *at != name) cx.envs.insert(at, std::string{name});
    env_list over;
    read_env_table(cx, *e.value, key, app, over);
    if (name == cx.env) lay_over(app.env, over);
  }
}

} // namespace arbor::config::detail

namespace arbor::config {

bool is_env_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
  });
}

} // namespace arbor::config
