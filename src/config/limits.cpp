#include "config/limits.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace arbor::config {

namespace {

constexpr size_t shown_bytes = 80;

/// A name as it may be printed: control bytes and non-ASCII as \xNN (a name
/// may hold ANSI escapes), cut after shown_bytes.
std::string shown(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size() && i < shown_bytes; ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (name.size() > shown_bytes)
    out += "... (" + std::to_string(name.size()) + " bytes)";
  return out;
}

bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

/// The last segment of a dotted path: the name this node was given.
std::string_view own_name(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

void check_name(const std::string& path, const source_pos& where,
                std::vector<diagnostic>& errors) {
  auto name = own_name(path);
  if (name.size() > max_name_length) {
    errors.push_back({where, "name '" + shown(name) + "' is " + std::to_string(name.size())
                               + " bytes long; names are at most "
                               + std::to_string(max_name_length) + " bytes"});
    return;
  }
  for (char c : name)
    if (!safe_char(c)) {
      errors.push_back({where, "name '" + shown(name) + "' may hold only letters, digits, '_' "
                                 "and '-' (it is used in file names, the command line and "
                                 "tables)"});
      return;
    }
}

size_t bytes_of(const std::vector<std::string>& v) {
  size_t n = 0;
  for (const auto& s : v)
    n += s.size();
  return n;
}

size_t bytes_of(const std::vector<std::pair<std::string, std::string>>& v) {
  size_t n = 0;
  for (const auto& kv : v)
    n += kv.first.size() + kv.second.size();
  return n;
}

void check_size(const app_spec& app, const char* key, size_t bytes,
                std::vector<diagnostic>& errors) {
  if (bytes > max_value_bytes)
    errors.push_back({app.where_of(key), "'" + std::string{key} + "' of app '" + shown(app.name)
                                           + "' is " + std::to_string(bytes)
                                           + " bytes; at most " + std::to_string(max_value_bytes)
                                           + " bytes"});
}

void check_app(const app_spec& app, std::vector<diagnostic>& errors) {
  check_name(app.name, app.where_of("name"), errors);
  // `command` as written, else `args` (then `command` is only their display).
  bool args_written = app.command.empty()
                      || std::any_of(app.key_where.begin(), app.key_where.end(),
                                     [](const auto& kw) { return kw.first == "args"; });
  if (args_written)
    check_size(app, "args", bytes_of(app.argv), errors);
  else
    check_size(app, "command", app.command.size(), errors);
  check_size(app, "env", bytes_of(app.env), errors);
  check_size(app, "cwd", app.cwd.size(), errors);
}

void check_group(const group_spec& g, size_t depth, std::vector<diagnostic>& errors) {
  if (depth > max_group_depth) {
    errors.push_back({g.where, too_deep_message(g.name, depth)});
    return;
  }
  if (depth > 0)
    check_name(g.name, g.where_of("name"), errors);
  for (const auto& c : g.children) {
    if (c.type == node_spec::kind::app)
      check_app(c.app, errors);
    else
      check_group(c.group, depth + 1, errors);
  }
}

} // namespace

std::string too_deep_message(const std::string& group_path, size_t depth) {
  return "group '" + shown(group_path) + "' is nested " + std::to_string(depth)
         + " deep; groups nest at most " + std::to_string(max_group_depth)
         + " deep (flatten the tree: a group is a supervisor, not a folder)";
}

void check_limits(const tree_spec& tree, std::vector<diagnostic>& errors) {
  check_group(tree.root, 0, errors);
}

} // namespace arbor::config
