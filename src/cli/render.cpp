// The client verbs' output, as pure functions of the daemon's JSON.

#include "cli/render.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <vector>

namespace arbor::cli {

using nlohmann::json;

namespace {

// --- colour ------------------------------------------------------------------

namespace ansi {
constexpr const char* none = "";
constexpr const char* bold = "\x1b[1m";
constexpr const char* dim = "\x1b[2m";
constexpr const char* red = "\x1b[31m";
constexpr const char* green = "\x1b[32m";
constexpr const char* yellow = "\x1b[33m";
constexpr const char* reset = "\x1b[0m";
} // namespace ansi

std::string paint(const std::string& text, const char* style, bool color) {
  if (!color || !*style || text.empty()) return text;
  return style + text + ansi::reset;
}

const char* state_style(const std::string& state) {
  if (state == "running" || state == "ready") return ansi::green;
  if (state == "starting" || state == "backoff" || state == "stopping") return ansi::yellow;
  if (state == "failed") return ansi::red;
  if (state == "stopped") return ansi::dim;
  return ansi::none;
}

const char* event_style(const std::string& kind, const std::string& reason) {
  if (kind == "child_started" || kind == "started" || kind == "ready") return ansi::green;
  if (kind == "spawn_failed" || kind == "gave_up" || kind == "log_error" || kind == "failed"
      || kind == "escalated")
    return ansi::red;
  if (kind == "child_exited") return reason == "exit(0)" ? ansi::none : ansi::yellow;
  if (kind == "backoff" || kind == "restarting" || kind == "spawn_retry" || kind == "stopping"
      || kind == "killed" || kind == "stays_down")
    return ansi::yellow;
  if (kind == "stopped") return ansi::dim;
  return ansi::none;
}

// --- text --------------------------------------------------------------------

std::string pad_right(std::string s, size_t width) {
  auto w = display_width(s);
  if (w < width) s.append(width - w, ' ');
  return s;
}

std::string pad_left(const std::string& s, size_t width) {
  auto w = display_width(s);
  return w < width ? std::string(width - w, ' ') + s : s;
}

std::string rtrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// --- tolerant JSON access ----------------------------------------------------

std::string get_str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<double> get_num(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

int64_t get_int(const json& j, const char* key, int64_t fallback = 0) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return fallback;
}

const json& get_array(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::vector<std::string> get_strings(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& x : get_array(j, key))
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

// --- instances ---------------------------------------------------------------

struct instance_view {
  std::string id, app, state, last_exit, reason;
  int64_t index = 0, pid = 0, uptime_ms = 0, restarts = 0;
  std::optional<double> memory, cpu;
};

instance_view read_instance(const json& j) {
  instance_view v;
  v.id = get_str(j, "id");
  v.app = get_str(j, "app");
  v.state = get_str(j, "state");
  v.last_exit = get_str(j, "last_exit");
  v.reason = get_str(j, "reason");
  auto hash = v.id.rfind('#');
  if (v.app.empty()) v.app = v.id.substr(0, hash);
  int64_t from_id = 0;
  if (hash != std::string::npos) {
    try {
      from_id = std::stoll(v.id.substr(hash + 1));
    } catch (...) {
    }
  }
  v.index = get_int(j, "index", from_id);
  v.pid = get_int(j, "pid");
  v.uptime_ms = get_int(j, "uptime_ms");
  v.restarts = get_int(j, "restarts");
  v.memory = get_num(j, "memory_bytes");
  v.cpu = get_num(j, "cpu_percent");
  return v;
}

/// Why an instance is down, for the states where that is news: failed,
/// backoff, and stopped by a decision ("stopped" alone says nothing).
std::string instance_reason(const instance_view& i) {
  if (i.state == "failed" || i.state == "backoff") return i.reason;
  if (i.state == "stopped" && i.reason != "stopped") return i.reason;
  return "";
}

/// The tree's short form of a reason: no leading repeat of the last exit,
/// which the row shows as `last:` ("exit(1), restart in 400ms" → "restart in
/// 400ms"), and the crash loop's explanation cut to its count ("crash loop:
/// 4 consecutive runs shorter than min_uptime, ..." → "crash loop: 4 short
/// runs, ..."); `status` and `show` keep the whole text.
std::string reason_beside_last(const instance_view& i) {
  auto r = instance_reason(i);
  if (!i.last_exit.empty() && starts_with(r, i.last_exit + ", "))
    r = r.substr(i.last_exit.size() + 2);
  static const std::string long_form = " consecutive runs shorter than min_uptime";
  auto at = r.find(long_form);
  if (starts_with(r, "crash loop: ") && at != std::string::npos)
    r.replace(at, long_form.size(), " short runs");
  return r;
}

const char* reason_style(const std::string& state) {
  if (state == "failed") return ansi::red;
  if (state == "backoff") return ansi::yellow;
  return ansi::dim;
}

std::string memory_text(const instance_view& i) {
  return i.memory && *i.memory >= 0 ? human_bytes(static_cast<uint64_t>(*i.memory)) : "-";
}

std::string cpu_text(const instance_view& i) { return i.cpu ? human_cpu(*i.cpu) : "-"; }

// --- tables ------------------------------------------------------------------

struct column {
  std::string header;
  bool right = false;
};

struct cell {
  std::string text;
  const char* style = ansi::none;
};

/// Columns two spaces apart, each as wide as its widest cell.
std::string render_table(const std::vector<column>& cols,
                         const std::vector<std::vector<cell>>& rows, bool color) {
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) width[c] = display_width(cols[c].header);
  for (const auto& row : rows)
    for (size_t c = 0; c < cols.size() && c < row.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c].text));
  auto line = [&](const std::vector<cell>& row) {
    std::string out;
    for (size_t c = 0; c < cols.size(); ++c) {
      const cell& x = c < row.size() ? row[c] : cell{};
      auto gap = width[c] - std::min(width[c], display_width(x.text));
      if (c) out += "  ";
      if (cols[c].right) out.append(gap, ' ');
      out += paint(x.text, x.style, color);
      if (!cols[c].right) out.append(gap, ' ');
    }
    return rtrim(out) + "\n";
  };
  std::vector<cell> header;
  for (const auto& c : cols) header.push_back({c.header, ansi::bold});
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string render_instances(const std::vector<instance_view>& list, bool color) {
  if (list.empty()) return "no instances\n";
  std::vector<column> cols = {{"APP"},          {"INST"},         {"STATE"},
                              {"PID", true},    {"UPTIME", true}, {"RESTARTS", true},
                              {"MEMORY", true}, {"CPU", true}};
  bool notes = std::any_of(list.begin(), list.end(),
                           [](const instance_view& i) { return !instance_reason(i).empty(); });
  if (notes) cols.push_back({"NOTE"});
  std::vector<std::vector<cell>> rows;
  for (const auto& i : list) {
    bool live = i.pid != 0;
    std::vector<cell> row = {
      {i.app},
      {"#" + std::to_string(i.index)},
      {i.state, state_style(i.state)},
      {live ? std::to_string(i.pid) : "-"},
      {live ? human_duration(i.uptime_ms) : "-"},
      {std::to_string(i.restarts), i.restarts > 0 ? ansi::yellow : ansi::none},
      {memory_text(i)},
      {cpu_text(i)},
    };
    if (notes) row.push_back({instance_reason(i), reason_style(i.state)});
    rows.push_back(std::move(row));
  }
  return render_table(cols, rows, color);
}

void collect_instances(const json& node, std::vector<instance_view>& out) {
  for (const auto& i : get_array(node, "instances"))
    if (i.is_object()) out.push_back(read_instance(i));
  for (const auto& c : get_array(node, "children")) collect_instances(c, out);
}

// --- the tree ----------------------------------------------------------------

struct tree_counts {
  size_t groups = 0, apps = 0, instances = 0, up = 0, backoff = 0, stopped = 0, failed = 0;
};

/// One output line: finished text (groups, apps) or an instance row whose
/// columns are aligned once every row is known.
struct tree_line {
  std::string text;
  bool is_instance = false;
  std::string prefix;     // connectors before "#i"
  std::string short_text; // instance rows: without the `last:` part
  instance_view inst;
};

tree_line text_line(std::string text) {
  tree_line l;
  l.text = std::move(text);
  return l;
}

bool is_group(const json& node) {
  auto kind = get_str(node, "kind");
  if (!kind.empty()) return kind == "group";
  return node.is_object() && node.contains("children");
}

void walk(const json& node, const std::string& prefix, bool color, std::vector<tree_line>& out,
          tree_counts& n) {
  const auto& children = get_array(node, "children");
  for (size_t c = 0; c < children.size(); ++c) {
    const auto& child = children[c];
    bool last = c + 1 == children.size();
    std::string branch = paint(prefix + (last ? "└── " : "├── "), ansi::dim, color);
    std::string next = prefix + (last ? "    " : "│   ");
    auto name = get_str(child, "name");
    auto state = get_str(child, "state");
    if (is_group(child)) {
      ++n.groups;
      std::string line = branch + paint(name, ansi::bold, color);
      auto strategy = get_str(child, "strategy");
      if (!strategy.empty()) line += "  " + paint(strategy, ansi::dim, color);
      if (!state.empty() && state != "running")
        line += "  " + paint(state, state_style(state), color);
      auto reason = get_str(child, "reason"); // why a group gave up
      if (!reason.empty()) line += "  " + paint(reason, reason_style(state), color);
      out.push_back(text_line(std::move(line)));
      walk(child, next, color, out, n);
      continue;
    }
    ++n.apps;
    std::string line = branch + paint(name, ansi::bold, color);
    if (!state.empty()) line += "  " + paint(state, state_style(state), color);
    std::vector<const json*> instances;
    for (const auto& i : get_array(child, "instances"))
      if (i.is_object()) instances.push_back(&i);
    if (instances.empty()) line += "  " + paint("no instances", ansi::dim, color);
    out.push_back(text_line(std::move(line)));
    for (size_t i = 0; i < instances.size(); ++i) {
      tree_line row;
      row.is_instance = true;
      row.prefix = next + (i + 1 == instances.size() ? "└── " : "├── ");
      row.inst = read_instance(*instances[i]);
      const auto& s = row.inst.state;
      ++n.instances;
      if (s == "running" || s == "ready")
        ++n.up;
      else if (s == "backoff")
        ++n.backoff;
      else if (s == "stopped")
        ++n.stopped;
      else if (s == "failed")
        ++n.failed;
      out.push_back(std::move(row));
    }
  }
}

/// "arbor  /srv/app/arbor.toml  · 2 groups · ..."; the counts go on a line
/// of their own when the whole would not fit in `width` (0: no limit).
std::string tree_header(const json& ping, const tree_counts& n, bool color, size_t width) {
  std::string out = paint("arbor", ansi::bold, color);
  auto config = get_str(ping, "config");
  if (!config.empty()) out += "  " + config;
  std::vector<std::string> parts = {
    plural(n.groups, "group"), plural(n.apps, "app"), plural(n.instances, "instance"),
    paint(std::to_string(n.up) + " up", ansi::green, color && n.up)};
  if (n.backoff)
    parts.push_back(paint(std::to_string(n.backoff) + " backoff", ansi::yellow, color));
  if (n.stopped) parts.push_back(std::to_string(n.stopped) + " stopped");
  parts.push_back(paint(std::to_string(n.failed) + " failed", ansi::red, color && n.failed));
  auto counts = join(parts, " · ");
  if (width && display_width(out) + 4 + display_width(counts) > width)
    return out + "\n" + counts + "\n";
  return out + "  · " + counts + "\n";
}

/// Instance rows: "#0  running   pid 4242   up 3m12s   ↻ 0   14.8M   0.4%".
/// Rows without a process put their reason where pid and uptime go, so the
/// restart counts line up whenever the reason is short enough.
void format_instance_rows(std::vector<tree_line>& lines, bool color, const std::string& sep) {
  size_t lead_w = 0, state_w = 0, pid_w = 0, up_w = 0, rs_w = 0, mem_w = 0, cpu_w = 0;
  bool any_live = false;
  for (const auto& l : lines) {
    if (!l.is_instance) continue;
    const auto& i = l.inst;
    lead_w = std::max(lead_w, display_width(l.prefix) + 1 + std::to_string(i.index).size());
    state_w = std::max(state_w, display_width(i.state));
    if (i.pid == 0) continue;
    any_live = true;
    pid_w = std::max(pid_w, 4 + std::to_string(i.pid).size());
    up_w = std::max(up_w, 3 + human_duration(i.uptime_ms).size());
    rs_w = std::max(rs_w, display_width("↻ " + std::to_string(i.restarts)));
    mem_w = std::max(mem_w, memory_text(i).size());
    cpu_w = std::max(cpu_w, cpu_text(i).size());
  }
  for (auto& l : lines) {
    if (!l.is_instance) continue;
    const auto& i = l.inst;
    std::string id = "#" + std::to_string(i.index);
    std::string out = paint(l.prefix, ansi::dim, color) + id;
    out.append(lead_w - display_width(l.prefix) - id.size(), ' ');
    out += "  " + paint(i.state, state_style(i.state), color);
    out.append(state_w - display_width(i.state), ' ');
    std::string restarts = "↻ " + std::to_string(i.restarts);
    std::string restarts_painted =
      paint("↻ ", ansi::dim, color)
      + paint(std::to_string(i.restarts), i.restarts > 0 ? ansi::yellow : ansi::none, color);
    std::string last = i.last_exit.empty() ? "" : paint("last: ", ansi::dim, color) + i.last_exit;
    if (i.pid != 0) {
      std::string pid = std::to_string(i.pid), up = human_duration(i.uptime_ms);
      out += sep + paint("pid ", ansi::dim, color) + pid;
      out.append(pid_w - 4 - pid.size(), ' ');
      out += sep + paint("up ", ansi::dim, color) + up;
      out.append(up_w - 3 - up.size(), ' ');
      out += sep + restarts_painted;
      out.append(rs_w - display_width(restarts), ' ');
      out += sep + pad_left(memory_text(i), mem_w) + sep + pad_left(cpu_text(i), cpu_w);
      l.short_text = rtrim(out);
      if (!last.empty()) out += sep + last;
    } else {
      auto reason = reason_beside_last(i);
      bool more = i.restarts > 0 || !last.empty();
      size_t slot = any_live ? pid_w + sep.size() + up_w : 0; // where ↻ sits on live rows
      if (!reason.empty()) out += sep + paint(reason, reason_style(i.state), color);
      if (more && any_live && display_width(reason) <= slot)
        out.append(slot - display_width(reason) + (reason.empty() ? sep.size() : 0), ' ');
      if (i.restarts > 0) out += sep + restarts_painted;
      l.short_text = rtrim(out);
      if (!last.empty()) out += sep + last;
    }
    l.text = rtrim(out);
  }
}

// --- spec as TOML ------------------------------------------------------------

/// Keys in the order the config documents them (config/app_keys.cpp,
/// config/loader.cpp); others follow alphabetically.
const std::vector<std::string>& spec_key_order() {
  // clang-format off
  static const std::vector<std::string> keys = {
    "strategy",        "intensity",       "period",         "command",
    "args",            "shell",           "cwd",            "env",
    "env_file",        "instances",       "restart",        "restart_on_exit",
    "stop_exit_codes", "max_restarts",    "min_uptime",     "restart_delay_ms",
    "backoff_base_ms", "backoff_max_ms",  "kill_signal",    "kill_timeout",
    "max_memory",      "cron_restart",    "cron_tz",        "health_check",
    "ready",           "port",            "depends_on",     "log_max_size",
    "log_max_files",   "log_date_format",
  };
  // clang-format on
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
  static const char* ms_keys[] = {"min_uptime", "restart_delay_ms", "backoff_base_ms",
                                  "backoff_max_ms", "kill_timeout"};
  for (const char* k : ms_keys)
    if (key == k) return duration_text(v.get<int64_t>());
  if (key == "period") return duration_text(v.get<int64_t>() * 1000);
  if (key == "max_memory" || key == "log_max_size") return size_text(v.get<uint64_t>());
  return v;
}

std::string render_spec(const std::string& name, const json& spec) {
  if (!spec.is_object() || spec.empty()) return "";
  std::vector<std::string> keys;
  for (const auto& k : spec_key_order())
    if (spec.contains(k)) keys.push_back(k);
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

// --- events ------------------------------------------------------------------

std::string iso_time(int64_t at_ns) {
  if (at_ns <= 0) return "";
  time_t secs = static_cast<time_t>(at_ns / 1000000000);
  int ms = static_cast<int>((at_ns / 1000000) % 1000);
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string event_who(const json& ev) {
  auto who = get_str(ev, "offender");
  return who.empty() ? get_str(ev, "supervisor") : who;
}

} // namespace

// --- public ------------------------------------------------------------------

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') { // CSI ... final byte
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string truncate_display(const std::string& s, size_t width, bool color) {
  if (width == 0 || display_width(s) <= width) return s;
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b && i + 1 < s.size() && s[i + 1] == '[') { // keep escapes, they take no room
      size_t end = i + 2;
      while (end < s.size() && !(s[end] >= 0x40 && s[end] <= 0x7e)) ++end;
      out.append(s, i, end + 1 - i);
      i = end;
      continue;
    }
    if ((c & 0xC0) != 0x80 && shown++ == width - 1) break; // room left for "…"
    out += s[i];
  }
  out += "…";
  if (color) out += ansi::reset;
  return out;
}

std::string human_duration(int64_t ms) {
  if (ms < 0) ms = 0;
  char buf[48];
  int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (m < 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(m),
                  static_cast<long long>(s % 60));
  else if (h < 24)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(h),
                  static_cast<long long>(m % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(d),
                  static_cast<long long>(h % 24));
  return buf;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + "B";
  static const char units[] = "KMGTPE";
  double v = static_cast<double>(bytes);
  int unit = -1;
  do { // one more unit when rounding would print "1024.0"
    v /= 1024;
    ++unit;
  } while (std::round(v * 10) >= 10240 && unit < 5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%c", v, units[unit]);
  return buf;
}

std::string human_cpu(double percent) {
  if (!std::isfinite(percent) || percent < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", percent);
  return buf;
}

std::string render_status(const json& result, bool color) {
  const json& list = result.is_array() ? result : get_array(result, "instances");
  std::vector<instance_view> views;
  for (const auto& i : list)
    if (i.is_object()) views.push_back(read_instance(i));
  return render_instances(views, color);
}

std::string render_tree(const json& tree, const json& ping, bool color, size_t width) {
  const json& root = tree.is_object() && tree.contains("root") ? tree["root"] : tree;
  std::vector<tree_line> lines;
  tree_counts n;
  walk(root, "", color, lines, n);
  format_instance_rows(lines, color, "   ");
  auto too_wide = [&] {
    return std::any_of(lines.begin(), lines.end(), [&](const tree_line& l) {
      return l.is_instance && display_width(l.text) > width;
    });
  };
  if (width && too_wide()) format_instance_rows(lines, color, "  ");
  // Too wide even so: the last exit goes first, then the row is cut.
  auto fit = [&](const tree_line& l) {
    if (!width || display_width(l.text) <= width) return l.text;
    return truncate_display(l.is_instance ? l.short_text : l.text, width, color);
  };
  std::string out = tree_header(ping, n, color, width);
  if (auto why = get_str(root, "reason"); !why.empty()) // the root gave up: the tree is down
    out += paint("tree failed: " + why, ansi::red, color) + "\n";
  if (lines.empty()) out += paint("no apps", ansi::dim, color) + "\n";
  for (const auto& l : lines)
    out += fit(l) + "\n";
  return out;
}

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
  std::vector<instance_view> views;
  collect_instances(node, views);
  out += "\n" + render_instances(views, color);
  out +=
    render_logs(result.is_object() && result.contains("logs") ? result["logs"] : json(), color);
  auto spec =
    render_spec(name, result.is_object() && result.contains("spec") ? result["spec"] : json());
  if (!spec.empty()) out += "\n" + spec;
  return out;
}

std::string render_affected(const std::string& verb, const std::string& past, const json& result) {
  auto ids = get_strings(result, "affected");
  if (ids.empty()) return "nothing to " + verb + "\n";
  return past + " " + join(ids, ", ") + "\n";
}

std::string render_scale(const json& result) {
  auto app = get_str(result, "app");
  auto from = get_int(result, "from"), to = get_int(result, "to");
  auto instances = [](int64_t n) {
    return std::to_string(n) + (n == 1 ? " instance" : " instances");
  };
  if (from == to) return app + " already has " + instances(to) + "\n";
  return "scaled " + app + " from " + std::to_string(from) + " to " + instances(to) + "\n";
}

std::string render_signaled(const std::string& signal, const json& result) {
  std::vector<std::string> parts;
  for (const auto& s : get_array(result, "signaled")) {
    auto id = get_str(s, "id");
    auto pid = get_int(s, "pid");
    parts.push_back(pid > 0 ? id + " (pid " + std::to_string(pid) + ")" : id);
  }
  if (parts.empty()) return "";
  auto name = starts_with(signal, "SIG") ? signal : "SIG" + signal;
  return "sent " + name + " to " + join(parts, ", ") + "\n";
}

std::string render_apply(const json& result, bool color) {
  std::string out;
  for (const auto& a : get_strings(result, "added"))
    out += paint("+ " + a, ansi::green, color) + "\n";
  for (const auto& r : get_strings(result, "removed"))
    out += paint("- " + r, ansi::red, color) + "\n";
  for (const auto& c : get_strings(result, "changed"))
    out += paint("~ " + c, ansi::yellow, color) + " (restarted)\n";
  for (const auto& c : get_strings(result, "scaled"))
    out += paint("~ " + c, ansi::yellow, color) + " (scaled)\n";
  auto unchanged = std::to_string(get_strings(result, "unchanged").size()) + " unchanged";
  if (out.empty()) return "no changes (" + unchanged + ")\n";
  return out + paint(unchanged, ansi::dim, color) + "\n";
}

std::string render_event(const json& ev, bool color, event_columns& cols) {
  auto at = get_str(ev, "at");
  if (at.empty()) at = iso_time(get_int(ev, "at_ns"));
  auto who = event_who(ev);
  auto kind = get_str(ev, "event");
  auto reason = get_str(ev, "reason");
  auto pid = get_int(ev, "pid");
  cols.offender = std::max(cols.offender, display_width(who));
  cols.kind = std::max(cols.kind, display_width(kind));
  std::string out = paint(at, ansi::dim, color) + "  "
                    + pad_right(paint(who, ansi::bold, color), cols.offender) + "  "
                    + pad_right(paint(kind, event_style(kind, reason), color), cols.kind);
  if (!reason.empty()) out += "  " + reason;
  if (pid > 0) out += "  " + paint("pid ", ansi::dim, color) + std::to_string(pid);
  return rtrim(out);
}

std::string render_event(const json& ev, bool color) {
  event_columns cols;
  return render_event(ev, color, cols);
}

std::string render_events(const json& result, bool color) {
  const json& list = result.is_array() ? result : get_array(result, "events");
  event_columns cols;
  for (const auto& ev : list) {
    cols.offender = std::max(cols.offender, display_width(event_who(ev)));
    cols.kind = std::max(cols.kind, display_width(get_str(ev, "event")));
  }
  std::string out;
  for (const auto& ev : list) out += render_event(ev, color, cols) + "\n";
  return out;
}

std::string render_error(const json& error) {
  auto message = get_str(error, "message");
  if (message.empty()) message = get_str(error, "code");
  if (message.empty()) message = "the daemon answered with an error";
  std::string out = "arbor: " + message + "\n";
  for (const auto& d : get_strings(error, "diagnostics")) out += d + "\n";
  return out;
}

} // namespace arbor::cli
