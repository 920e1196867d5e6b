#include "config/validate.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "config/limits.hpp"
#include "config/units.hpp"

namespace arbor::config {

namespace {

/// A child's name is its parent's path, '.', and one segment of its own.
void check_name(const group_spec& parent, const node_spec& c, std::vector<diagnostic>& errors) {
  const auto& name = c.name();
  auto at = c.type == node_spec::kind::app ? c.app.where_of("name") : c.group.where_of("name");
  auto prefix = parent.name.empty() ? std::string{} : parent.name + ".";
  if (name.compare(0, prefix.size(), prefix) != 0) {
    errors.push_back({at, "name '" + name + "' in group '" + parent.name + "' must start with '"
                            + prefix + "'"});
    return;
  }
  auto segment = name.substr(prefix.size());
  auto quoted = "'" + segment + "'";
  if (segment.empty())
    errors.push_back({at, "empty name: apps and groups need a name"});
  else if (segment.find('.') != std::string::npos)
    errors.push_back({at, "name " + quoted + " must not contain '.' (nest tables instead: [group.app])"});
  // The characters a name may hold are checked with its length (limits.cpp).
  else if (segment == "all")
    errors.push_back({at, "'all' is a reserved name (the command line uses it for every app)"});
}

void check_group(const group_spec& g, std::set<std::string>& names,
                 std::vector<const app_spec*>& apps, std::vector<diagnostic>& errors) {
  if (g.period.count() <= 0)
    errors.push_back({g.where_of("period"), "'period' must be greater than 0"});
  for (const auto& c : g.children) {
    check_name(g, c, errors);
    if (!names.insert(c.name()).second)
      errors.push_back({c.type == node_spec::kind::app ? c.app.where : c.group.where,
                        "duplicate name '" + c.name() + "'"});
    if (c.type == node_spec::kind::app) {
      detail::check_app(c.app, errors);
      apps.push_back(&c.app);
    } else {
      check_group(c.group, names, apps, errors);
    }
  }
}

/// `[web]`: its address, and a token for any address beyond the loopback.
void check_web(const web_spec& web, std::vector<diagnostic>& errors) {
  if (!web.enabled) return;
  if (auto err = detail::host_port_error(web.listen, false)) {
    errors.push_back({web.where, "[web] 'listen': " + *err});
    return;
  }
  auto host = web.listen.substr(0, web.listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (!detail::is_loopback_host(host) && web.token_file.empty())
    errors.push_back({web.where, "[web] listen = \"" + web.listen + "\" is not a loopback "
                                 "address: set 'token_file' (the token every request from the "
                                 "network must carry), or listen on 127.0.0.1"});
}

} // namespace

namespace detail {

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

} // namespace detail

std::vector<diagnostic> validate(tree_spec& tree) {
  std::vector<diagnostic> errors;
  check_limits(tree, errors);
  std::set<std::string> names;
  std::vector<const app_spec*> apps;
  check_group(tree.root, names, apps, errors);
  detail::check_listen_collisions(apps, errors);
  if (auto err = detail::host_port_error(tree.metrics.listen, false))
    errors.push_back({tree.metrics.where, "'listen': " + *err});
  check_web(tree.web, errors);
  detail::resolve_dependencies(tree.root, errors);
  if (errors.empty()) detail::order_by_dependencies(tree.root);
  return errors;
}

std::string to_string(const std::vector<diagnostic>& errors) {
  std::string text;
  for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e.to_string();
  return text;
}

std::string range_message(std::string_view key, int64_t min, int64_t max, int64_t value) {
  std::string range = max == std::numeric_limits<int64_t>::max()
                        ? "at least " + std::to_string(min)
                        : "between " + std::to_string(min) + " and " + std::to_string(max);
  return "'" + std::string{key} + "' must be " + range + ", got " + std::to_string(value);
}

namespace detail {

bool written(const key_positions& keys, std::string_view key) {
  return std::any_of(keys.begin(), keys.end(), [&](const auto& kw) { return kw.first == key; });
}

} // namespace detail

} // namespace arbor::config
