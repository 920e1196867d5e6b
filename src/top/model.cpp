// `arbor top`'s rows: the tree flattened, collapsed and filtered, and the
// text of each row.

#include "top/model.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "cli/render_detail.hpp"

namespace arbor::top {

using namespace cli::detail;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_up(const std::string& state) { return state == "running" || state == "ready"; }

} // namespace

std::string cut(std::string s, size_t width) {
  size_t cols = 0, i = 0;
  for (; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && cols++ == width) break;
  s.resize(i);
  return s;
}

std::string fit(std::string s, size_t width) { return pad_right(cut(std::move(s), width), width); }

namespace {

// The instance columns after the name: widths shared by row_text and the heading.
constexpr size_t name_w = model::state_column - 1, state_w = model::state_width, pid_w = 7, uptime_w = 6, restarts_w = 3, mem_w = 6,
                 cpu_w = 6;

std::string instance_columns(const std::string& state, const std::string& pid,
                             const std::string& uptime, const std::string& restarts,
                             const std::string& mem, const std::string& cpu) {
  return pad_right(state, state_w) + " " + pad_left(pid, pid_w) + " " + pad_left(uptime, uptime_w)
         + " " + pad_left(restarts, restarts_w) + " " + pad_left(mem, mem_w) + " "
         + pad_left(cpu, cpu_w) + "  ";
}

row instance_row(const json& j, int depth) {
  auto v = read_instance(j);
  row r;
  r.kind = row_kind::instance;
  r.key = v.id;
  r.app = v.app;
  r.depth = depth;
  r.state = v.state;
  r.reason = instance_reason(v);
  r.pid = v.pid;
  r.uptime_ms = v.uptime_ms;
  r.restarts = v.restarts;
  r.memory = v.memory;
  r.cpu = v.cpu;
  r.last_exit = v.last_exit;
  r.health = get_str(j, "health");
  return r;
}

} // namespace

std::optional<int64_t> restart_delay_ms(const std::string& reason) {
  static const std::string marker = "restart in ";
  auto at = reason.rfind(marker);
  if (at == std::string::npos) return std::nullopt;
  size_t i = at + marker.size();
  int64_t ms = 0;
  size_t digits = 0;
  for (; i < reason.size() && std::isdigit(static_cast<unsigned char>(reason[i])); ++i, ++digits)
    ms = ms * 10 + (reason[i] - '0');
  if (digits == 0 || reason.compare(i, 2, "ms") != 0) return std::nullopt;
  return ms;
}

std::string next_restart_text(const std::string& reason, int64_t since_ns, int64_t now_ns) {
  auto delay = restart_delay_ms(reason);
  if (!delay) return "";
  int64_t left = *delay;
  if (since_ns > 0) left = std::max<int64_t>(0, (since_ns + *delay * 1'000'000 - now_ns) / 1'000'000);
  if (left < 1000) return "next restart in " + std::to_string(left) + "ms";
  return "next restart in " + std::to_string((left + 999) / 1000) + "s";
}

std::string limits_text(const group_limits& l, std::optional<int64_t> used) {
  if (!l.intensity) return "no restart limit";
  return (used ? std::to_string(*used) + " of " : std::string{"max "}) + std::to_string(*l.intensity)
         + " restarts in " + cli::human_duration(l.period_s * 1000);
}

// --- the rows ----------------------------------------------------------------

void model::set_tree(const json& root) {
  root_ = root.is_object() ? root : json::object();
  rebuild();
}

void model::set_limits(const std::string& group, group_limits l) { limits_[group] = l; }

std::vector<std::string> model::groups_without_limits() const {
  std::vector<std::string> out;
  for (const auto& r : rows_)
    if (r.kind == row_kind::group && !limits_.count(r.key)) out.push_back(r.key);
  return out;
}

void model::note_event(const json& event) {
  auto what = get_str(event, "event");
  auto who = get_str(event, "offender");
  if (what == "backoff") backoff_since_ns_[who] = get_int(event, "at_ns");
  else if (what == "child_started" || what == "stays_down" || what == "gave_up")
    backoff_since_ns_.erase(who);
}

bool model::matches(const json& node) const {
  if (lower(get_str(node, "name")).find(filter_) != std::string::npos) return true;
  for (const auto& i : get_array(node, "instances"))
    if (lower(get_str(i, "id")).find(filter_) != std::string::npos) return true;
  for (const auto& c : get_array(node, "children"))
    if (matches(c)) return true;
  return false;
}

void model::walk(const json& node, int depth, bool shown_by_ancestor) {
  auto name = get_str(node, "name");
  bool self_match = filter_.empty() || lower(name).find(filter_) != std::string::npos;
  if (!shown_by_ancestor && !matches(node)) return;
  bool all_below = shown_by_ancestor || (self_match && !name.empty());
  row r;
  r.key = name;
  r.depth = depth;
  r.collapsed = collapsed_.count(name) > 0;
  r.state = get_str(node, "state");
  r.reason = get_str(node, "reason");
  if (is_group(node)) {
    r.kind = row_kind::group;
    r.kind_detail = get_str(node, "strategy");
    if (auto it = node.find("intensity"); it != node.end() && it->is_object())
      r.intensity_used = it->value("used", int64_t{0});
    rows_.push_back(r);
    if (r.collapsed) return;
    for (const auto& c : get_array(node, "children")) walk(c, depth + 1, all_below);
    return;
  }
  r.kind = row_kind::app;
  r.app = name;
  r.kind_detail = get_str(node, "restart");
  const auto& instances = get_array(node, "instances");
  r.total = instances.size();
  for (const auto& i : instances) r.up += is_up(get_str(i, "state")) ? 1 : 0;
  rows_.push_back(r);
  if (r.collapsed) return;
  for (const auto& i : instances)
    if (all_below || lower(get_str(i, "id")).find(filter_) != std::string::npos)
      rows_.push_back(instance_row(i, depth + 1));
}

void model::rebuild() {
  rows_.clear();
  if (!root_.empty()) walk(root_, 0, false);
  selected_ = std::min(selected_, rows_.empty() ? 0 : rows_.size() - 1);
  for (size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].key == selected_key_) selected_ = i;
  selected_key_ = rows_.empty() ? "" : rows_[selected_].key;
}

const row* model::selected() const { return rows_.empty() ? nullptr : &rows_[selected_]; }

void model::move(int delta) {
  if (rows_.empty()) return;
  auto at = static_cast<long>(selected_) + delta;
  at = std::clamp<long>(at, 0, static_cast<long>(rows_.size()) - 1);
  selected_ = static_cast<size_t>(at);
  selected_key_ = rows_[selected_].key;
}

void model::select_first() { move(-static_cast<int>(rows_.size())); }
void model::select_last() { move(static_cast<int>(rows_.size())); }

void model::set_expanded(bool expand) {
  const row* r = selected();
  if (!r) return;
  if (r->kind == row_kind::instance) {
    if (!expand) {
      selected_key_ = r->app;
      rebuild();
    }
    return;
  }
  if (expand) collapsed_.erase(r->key);
  else collapsed_.insert(r->key);
  rebuild();
}

void model::toggle_selected() {
  const row* r = selected();
  if (r && r->kind != row_kind::instance) set_expanded(r->collapsed);
}

void model::set_filter(const std::string& filter) {
  filter_ = lower(filter);
  rebuild();
}

// --- text --------------------------------------------------------------------

std::string model::column_heading(size_t width) {
  auto s = fit("NAME", name_w) + " " + instance_columns("STATE", "PID", "UPTIME", "RST", "MEM", "CPU")
           + "NOTE";
  return fit(s, width);
}

std::string model::row_text(const row& r, int64_t now_ns, size_t width) const {
  std::string indent(static_cast<size_t>(r.depth) * 2, ' ');
  if (r.kind == row_kind::instance) {
    auto hash = r.key.rfind('#');
    auto name = fit(indent + "  " + r.key.substr(hash == std::string::npos ? 0 : hash), name_w);
    std::string note;
    if (r.state == "backoff") {
      auto it = backoff_since_ns_.find(r.key);
      note = next_restart_text(r.reason, it == backoff_since_ns_.end() ? 0 : it->second, now_ns);
    }
    if (note.empty()) note = r.reason;
    if (r.state == "running" && !r.health.empty()) note = "health: " + r.health;
    if (!r.last_exit.empty() && r.reason.empty())
      note += (note.empty() ? "" : ", ") + std::string{"last "} + r.last_exit;
    instance_view v;
    v.memory = r.memory;
    v.cpu = r.cpu;
    auto cols = instance_columns(r.state, r.pid ? std::to_string(r.pid) : "-",
                                 r.pid ? cli::human_duration(r.uptime_ms) : "-",
                                 std::to_string(r.restarts), memory_text(v), cpu_text(v));
    return fit(name + " " + cols + note, width);
  }
  std::string marker = r.collapsed ? "+ " : "- ";
  std::string text = indent + marker + (r.key.empty() ? "(root)" : r.key) + "  ";
  if (r.kind == row_kind::group) {
    auto it = limits_.find(r.key);
    text += r.kind_detail + "  "
            + (it == limits_.end() ? "" : limits_text(it->second, r.intensity_used) + "  ");
  } else {
    text += r.kind_detail + "  " + std::to_string(r.up) + "/" + std::to_string(r.total) + " up  ";
  }
  text += r.state;
  if (!r.reason.empty()) text += ": " + r.reason;
  return fit(text, width);
}

namespace {

struct counts {
  size_t apps = 0, instances = 0, up = 0, backoff = 0, failed = 0;
};

void count(const json& node, counts& n) {
  if (!is_group(node)) ++n.apps;
  for (const auto& i : get_array(node, "instances")) {
    auto state = get_str(i, "state");
    ++n.instances;
    n.up += is_up(state) ? 1 : 0;
    n.backoff += state == "backoff" ? 1 : 0;
    n.failed += state == "failed" ? 1 : 0;
  }
  for (const auto& c : get_array(node, "children")) count(c, n);
}

} // namespace

std::string model::summary() const {
  counts n;
  if (!root_.empty()) count(root_, n);
  auto s = plural(n.apps, "app") + ", " + plural(n.instances, "instance") + ": "
           + std::to_string(n.up) + " up";
  if (n.backoff) s += ", " + std::to_string(n.backoff) + " backoff";
  if (n.failed) s += ", " + std::to_string(n.failed) + " failed";
  return s;
}

} // namespace arbor::top
