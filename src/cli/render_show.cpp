// `show`: a node's heading, its instances, an app's log files and its spec
// written back as a TOML table.

#include <algorithm>
#include <cctype>

#include "cli/render_detail.hpp"
#include "config/app_fields.hpp"

namespace arbor::cli {

using namespace detail;

namespace {

void collect_instances(const json& node, std::vector<instance_view>& out) {
  for (const auto& i : get_array(node, "instances"))
    if (i.is_object()) out.push_back(read_instance(i));
  for (const auto& c : get_array(node, "children")) collect_instances(c, out);
}

// --- spec as TOML ------------------------------------------------------------

/// Keys in the order the config documents them (config/app_fields.cpp);
/// others follow alphabetically.
const std::vector<std::string_view>& spec_key_order() {
  static const std::vector<std::string_view> keys = [] {
    auto out = config::group_keys();
    out.insert(out.end(), config::app_keys().begin(), config::app_keys().end());
    return out;
  }();
  return keys;
}

bool bare_key(const std::string& k) {
  return !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

std::string toml_key(const std::string& k) {
  return bare_key(k) ? k : json(k).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string toml_value(const json& v) {
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& x : v)
      if (!x.is_null()) parts.push_back(toml_value(x));
    return "[" + join(parts, ", ") + "]";
  }
  if (v.is_object()) {
    std::vector<std::string> parts;
    for (const auto& [k, x] : v.items())
      if (!x.is_null()) parts.push_back(toml_key(k) + " = " + toml_value(x));
    return parts.empty() ? "{}" : "{ " + join(parts, ", ") + " }";
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// An exact duration in the config's own syntax: 5000 → "5s", 1500 → "1500ms".
std::string duration_text(int64_t ms) {
  struct unit {
    int64_t ms;
    const char* suffix;
  };
  static const unit units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto& u : units)
    if (ms != 0 && ms % u.ms == 0) return std::to_string(ms / u.ms) + u.suffix;
  return std::to_string(ms) + "ms";
}

/// An exact size in the config's own syntax: 536870912 → "512M".
std::string size_text(uint64_t bytes) {
  static const char* suffixes[] = {"T", "G", "M", "K"};
  for (int i = 0; i < 4; ++i) {
    uint64_t factor = 1ull << (10 * (4 - i));
    if (bytes != 0 && bytes % factor == 0) return std::to_string(bytes / factor) + suffixes[i];
  }
  return std::to_string(bytes);
}

/// The daemon sends durations and sizes as plain numbers (ms, s for
/// `period`, bytes); show them as an operator writes them.
json spec_value(const std::string& key, const json& v) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0) return v;
  switch (config::unit_of(key)) {
  case config::field_unit::millis: return duration_text(v.get<int64_t>());
  case config::field_unit::seconds: return duration_text(v.get<int64_t>() * 1000);
  case config::field_unit::bytes: return size_text(v.get<uint64_t>());
  case config::field_unit::plain: break;
  }
  return v;
}

std::string render_spec(const std::string& name, const json& spec) {
  if (!spec.is_object() || spec.empty()) return "";
  std::vector<std::string> keys;
  for (auto k : spec_key_order())
    if (spec.contains(k)) keys.emplace_back(k);
  for (const auto& [k, v] : spec.items())
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  size_t width = 0;
  for (const auto& k : keys)
    if (!spec[k].is_null()) width = std::max(width, display_width(toml_key(k)));
  std::string out = name.empty() ? "" : "[" + name + "]\n";
  for (const auto& k : keys)
    if (!spec[k].is_null())
      out += pad_right(toml_key(k), width) + " = " + toml_value(spec_value(k, spec[k])) + "\n";
  return out;
}

/// An app's log files and their counters (show's "logs" object).
std::string render_logs(const json& logs, bool color) {
  if (!logs.is_object()) return "";
  std::string out;
  auto file = [&](const char* key) {
    auto path = get_str(logs, key);
    if (!path.empty()) out += paint(std::string{key} + "  ", ansi::dim, color) + path + "\n";
  };
  file("out");
  file("err");
  std::vector<std::string> counts;
  if (auto w = get_num(logs, "bytes_written"))
    counts.push_back(human_bytes(static_cast<uint64_t>(*w)) + " written");
  if (auto r = get_num(logs, "rotations"))
    counts.push_back(plural(static_cast<size_t>(*r), "rotation"));
  if (auto d = get_num(logs, "bytes_dropped"); d && *d > 0)
    counts.push_back(
      paint(human_bytes(static_cast<uint64_t>(*d)) + " dropped", ansi::yellow, color));
  if (!counts.empty()) out += paint("logs ", ansi::dim, color) + join(counts, " · ") + "\n";
  auto error = get_str(logs, "last_error");
  if (!error.empty()) out += paint("log error: " + error, ansi::red, color) + "\n";
  return out.empty() ? "" : "\n" + out;
}

/// "uid 65534, gid 65534" of the running instances of an app that sets
/// `user` or `group` (each distinct pair once); "" otherwise.
std::string ids_text(const json& node, const json& spec) {
  if (!spec.is_object() || (!spec.contains("user") && !spec.contains("group"))) return "";
  std::vector<std::string> seen;
  for (const auto& i : get_array(node, "instances")) {
    if (!i.is_object() || !i.contains("uid") || !i["uid"].is_number()) continue;
    auto ids = "uid " + i["uid"].dump() + ", gid " + i.value("gid", json(nullptr)).dump();
    if (std::find(seen.begin(), seen.end(), ids) == seen.end()) seen.push_back(ids);
  }
  return join(seen, "; ");
}

} // namespace

std::string render_show(const json& result, bool color) {
  const json& node =
    result.is_object() && result.contains("node") ? result["node"] : json::object();
  auto name = get_str(node, "name");
  auto state = get_str(node, "state");
  bool group = is_group(node);
  std::string kind = group ? "group" : "app";
  if (group && !get_str(node, "strategy").empty()) kind += ", " + get_str(node, "strategy");
  if (!group && !get_str(node, "restart").empty()) kind += ", restart " + get_str(node, "restart");
  std::string out = paint(name.empty() ? "(root)" : name, ansi::bold, color);
  if (!state.empty()) out += "  " + paint(state, state_style(state), color);
  out += "  " + paint("(" + kind + ")", ansi::dim, color) + "\n";
  auto command = get_str(node, "command");
  if (!command.empty()) out += paint("$ ", ansi::dim, color) + command + "\n";
  if (auto from = get_str(result, "from"); !from.empty())
    out += paint("from ", ansi::dim, color) + from
           + (from == "arbor start" ? " (arbor delete " + name + " removes it)" : "") + "\n";
  const json& spec_of = result.is_object() && result.contains("spec") ? result["spec"] : json();
  if (auto ids = ids_text(node, spec_of); !ids.empty())
    out += paint("runs as ", ansi::dim, color) + ids + "\n";
  if (auto when = get_str(result, "ready_when"); !when.empty())
    out += paint("ready when ", ansi::dim, color) + when + "\n";
  std::vector<instance_view> views;
  collect_instances(node, views);
  out += "\n" + render_instances(views, color);
  out +=
    render_logs(result.is_object() && result.contains("logs") ? result["logs"] : json(), color);
  auto spec = render_spec(name, spec_of);
  if (!spec.empty()) out += "\n" + spec;
  return out;
}

} // namespace arbor::cli
