#include "config/targets.hpp"

#include <algorithm>
#include <string_view>

#include "config/suggest.hpp"

namespace arbor::config {

namespace {

void collect(const group_spec& g, std::vector<const app_spec*>& apps,
             std::vector<const group_spec*>& groups) {
  for (auto& c : g.children) {
    if (c.type == node_spec::kind::app) {
      apps.push_back(&c.app);
    } else {
      groups.push_back(&c.group);
      collect(c.group, apps, groups);
    }
  }
}

std::string last_segment(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

/// Resolves one name without its "#i" suffix.
bool resolve_one(const group_spec& root, const std::string& name, target& out,
                 resolution& res) {
  if (name == "all") {
    out = target{"", true, std::nullopt};
    return true;
  }
  std::vector<const app_spec*> apps;
  std::vector<const group_spec*> groups;
  collect(root, apps, groups);
  for (auto* a : apps)
    if (a->name == name) {
      out = target{name, false, std::nullopt};
      return true;
    }
  for (auto* g : groups)
    if (g->name == name) {
      out = target{name, true, std::nullopt};
      return true;
    }
  std::vector<std::string> matches;
  for (auto* a : apps)
    if (last_segment(a->name) == name) matches.push_back(a->name);
  if (matches.size() == 1) {
    out = target{matches.front(), false, std::nullopt};
    return true;
  }
  if (matches.size() > 1) {
    res.error_code = "ambiguous";
    res.error = "'" + name + "' is ambiguous: it could be ";
    for (size_t i = 0; i < matches.size(); ++i)
      res.error += (i ? (i + 1 == matches.size() ? " or " : ", ") : "") + ("'" + matches[i] + "'");
    return false;
  }
  std::vector<std::string> names;
  for (auto* a : apps) {
    names.push_back(a->name);
    names.push_back(last_segment(a->name));
  }
  for (auto* g : groups) names.push_back(g->name);
  std::vector<std::string_view> views(names.begin(), names.end());
  res.error_code = "not_found";
  res.error = "no app or group named '" + name + "'" + detail::did_you_mean(name, views);
  return false;
}

} // namespace

std::string target::address() const {
  return instance ? path + "#" + std::to_string(*instance) : path;
}

resolution resolve_targets(const group_spec& root, const std::vector<std::string>& names,
                           const instance_counts& running) {
  resolution res;
  for (auto& raw : names) {
    std::string name = raw;
    std::optional<uint32_t> index;
    if (auto hash = raw.find('#'); hash != std::string::npos) {
      name = raw.substr(0, hash);
      auto digits = raw.substr(hash + 1);
      if (digits.empty() || digits.size() > 6
          || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        res.error_code = "invalid_argument";
        res.error = "'" + raw + "': an instance is written as app#N, e.g. web.api#0";
        return res;
      }
      index = static_cast<uint32_t>(std::stoul(digits));
    }
    target t;
    if (!resolve_one(root, name, t, res)) return res;
    if (index) {
      const app_spec* app = t.is_group ? nullptr : find_app(root, t.path);
      if (!app) {
        res.error_code = "invalid_argument";
        res.error = "'" + raw + "': only an app has instances, '" + (t.path.empty() ? "all" : t.path)
                    + "' is a group";
        return res;
      }
      auto count = running.count(app->name) ? running.at(app->name) : 0u;
      if (*index >= count) {
        res.error_code = "not_found";
        res.error = "'" + raw + "': " + app->name + " has " + std::to_string(count) + " instance"
                    + (count == 1 ? "" : "s")
                    + (count == 0 ? std::string{}
                                  : " (#0" + (count > 1 ? "..#" + std::to_string(count - 1) : "")
                                      + ")");
        return res;
      }
      t.instance = index;
    }
    bool dup = std::any_of(res.targets.begin(), res.targets.end(), [&](const target& x) {
      return x.address() == t.address() && x.is_group == t.is_group;
    });
    if (!dup) res.targets.push_back(std::move(t));
  }
  return res;
}

std::vector<std::string> app_paths(const group_spec& g) {
  std::vector<const app_spec*> apps;
  std::vector<const group_spec*> groups;
  collect(g, apps, groups);
  std::vector<std::string> out;
  for (auto* a : apps) out.push_back(a->name);
  return out;
}

const app_spec* find_app(const group_spec& root, const std::string& path) {
  for (auto& c : root.children) {
    if (c.type == node_spec::kind::app) {
      if (c.app.name == path) return &c.app;
    } else if (path.compare(0, c.group.name.size() + 1, c.group.name + ".") == 0) {
      return find_app(c.group, path);
    }
  }
  return nullptr;
}

app_spec* find_app(group_spec& root, const std::string& path) {
  return const_cast<app_spec*>(find_app(static_cast<const group_spec&>(root), path));
}

const group_spec* find_group(const group_spec& root, const std::string& path) {
  if (root.name == path) return &root;
  for (auto& c : root.children) {
    if (c.type != node_spec::kind::group) continue;
    if (c.group.name == path) return &c.group;
    if (path.compare(0, c.group.name.size() + 1, c.group.name + ".") == 0)
      return find_group(c.group, path);
  }
  return nullptr;
}

} // namespace arbor::config
