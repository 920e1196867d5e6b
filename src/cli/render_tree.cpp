// `tree`: the supervision tree under a header line, instance rows aligned
// and fitted to the terminal's width.

#include <algorithm>

#include "cli/render_detail.hpp"

namespace arbor::cli {

using namespace detail;

namespace {

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

} // namespace

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

} // namespace arbor::cli
